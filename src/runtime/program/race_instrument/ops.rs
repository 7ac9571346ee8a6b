//! Which instructions the race instrumentation reports, and how: generated
//! from wasmparser's operator list (every instruction with a `memarg`
//! except `memory.atomic.wait`/`notify`, which `wait_rewrite` turned into
//! calls already), grouped by what the detector sees and by the operands on
//! the stack.

use wasmparser::{MemArg, Operator as O};

use super::{Hook, Kind, Shape};

/// What an instruction with a `memarg` does to memory: its memarg, kind,
/// size in bytes, the operands it takes and the hook called after it
/// (atomics that read).
pub(super) type Access = (MemArg, Kind, u32, Shape, Option<Hook>);

/// `op`'s access, if it has a `memarg`.
#[rustfmt::skip]
pub(super) fn classify(op: &O<'_>) -> Option<Access> {
    let (memarg, kind, size, before, after) = match *op {
        O::I32AtomicLoad8U { memarg, .. } => (memarg, Kind::AtomicLoad, 1, Shape::Addr, Some(Hook::AcquireI32)),
        O::I32AtomicLoad16U { memarg, .. } => (memarg, Kind::AtomicLoad, 2, Shape::Addr, Some(Hook::AcquireI32)),
        O::I32AtomicLoad { memarg, .. } => (memarg, Kind::AtomicLoad, 4, Shape::Addr, Some(Hook::AcquireI32)),
        O::I64AtomicLoad8U { memarg, .. } => (memarg, Kind::AtomicLoad, 1, Shape::Addr, Some(Hook::AcquireI64)),
        O::I64AtomicLoad16U { memarg, .. } => (memarg, Kind::AtomicLoad, 2, Shape::Addr, Some(Hook::AcquireI64)),
        O::I64AtomicLoad32U { memarg, .. } => (memarg, Kind::AtomicLoad, 4, Shape::Addr, Some(Hook::AcquireI64)),
        O::I64AtomicLoad { memarg, .. } => (memarg, Kind::AtomicLoad, 8, Shape::Addr, Some(Hook::AcquireI64)),
        O::I32AtomicRmw8AddU { memarg, .. } | O::I32AtomicRmw8SubU { memarg, .. } | O::I32AtomicRmw8AndU { memarg, .. } | O::I32AtomicRmw8OrU { memarg, .. } | O::I32AtomicRmw8XorU { memarg, .. } | O::I32AtomicRmw8XchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 1, Shape::I32, Some(Hook::AcquireI32)),
        O::I32AtomicRmw16AddU { memarg, .. } | O::I32AtomicRmw16SubU { memarg, .. } | O::I32AtomicRmw16AndU { memarg, .. } | O::I32AtomicRmw16OrU { memarg, .. } | O::I32AtomicRmw16XorU { memarg, .. } | O::I32AtomicRmw16XchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 2, Shape::I32, Some(Hook::AcquireI32)),
        O::I32AtomicRmwAdd { memarg, .. } | O::I32AtomicRmwSub { memarg, .. } | O::I32AtomicRmwAnd { memarg, .. } | O::I32AtomicRmwOr { memarg, .. } | O::I32AtomicRmwXor { memarg, .. } | O::I32AtomicRmwXchg { memarg, .. } => (memarg, Kind::AtomicRmw, 4, Shape::I32, Some(Hook::AcquireI32)),
        O::I32AtomicRmw8CmpxchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 1, Shape::I32x2, Some(Hook::AcquireI32)),
        O::I32AtomicRmw16CmpxchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 2, Shape::I32x2, Some(Hook::AcquireI32)),
        O::I32AtomicRmwCmpxchg { memarg, .. } => (memarg, Kind::AtomicRmw, 4, Shape::I32x2, Some(Hook::AcquireI32)),
        O::I64AtomicRmw8AddU { memarg, .. } | O::I64AtomicRmw8SubU { memarg, .. } | O::I64AtomicRmw8AndU { memarg, .. } | O::I64AtomicRmw8OrU { memarg, .. } | O::I64AtomicRmw8XorU { memarg, .. } | O::I64AtomicRmw8XchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 1, Shape::I64, Some(Hook::AcquireI64)),
        O::I64AtomicRmw16AddU { memarg, .. } | O::I64AtomicRmw16SubU { memarg, .. } | O::I64AtomicRmw16AndU { memarg, .. } | O::I64AtomicRmw16OrU { memarg, .. } | O::I64AtomicRmw16XorU { memarg, .. } | O::I64AtomicRmw16XchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 2, Shape::I64, Some(Hook::AcquireI64)),
        O::I64AtomicRmw32AddU { memarg, .. } | O::I64AtomicRmw32SubU { memarg, .. } | O::I64AtomicRmw32AndU { memarg, .. } | O::I64AtomicRmw32OrU { memarg, .. } | O::I64AtomicRmw32XorU { memarg, .. } | O::I64AtomicRmw32XchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 4, Shape::I64, Some(Hook::AcquireI64)),
        O::I64AtomicRmwAdd { memarg, .. } | O::I64AtomicRmwSub { memarg, .. } | O::I64AtomicRmwAnd { memarg, .. } | O::I64AtomicRmwOr { memarg, .. } | O::I64AtomicRmwXor { memarg, .. } | O::I64AtomicRmwXchg { memarg, .. } => (memarg, Kind::AtomicRmw, 8, Shape::I64, Some(Hook::AcquireI64)),
        O::I64AtomicRmw8CmpxchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 1, Shape::I64x2, Some(Hook::AcquireI64)),
        O::I64AtomicRmw16CmpxchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 2, Shape::I64x2, Some(Hook::AcquireI64)),
        O::I64AtomicRmw32CmpxchgU { memarg, .. } => (memarg, Kind::AtomicRmw, 4, Shape::I64x2, Some(Hook::AcquireI64)),
        O::I64AtomicRmwCmpxchg { memarg, .. } => (memarg, Kind::AtomicRmw, 8, Shape::I64x2, Some(Hook::AcquireI64)),
        O::I32AtomicStore8 { memarg, .. } => (memarg, Kind::AtomicStore, 1, Shape::I32, None),
        O::I32AtomicStore16 { memarg, .. } => (memarg, Kind::AtomicStore, 2, Shape::I32, None),
        O::I32AtomicStore { memarg, .. } => (memarg, Kind::AtomicStore, 4, Shape::I32, None),
        O::I64AtomicStore8 { memarg, .. } => (memarg, Kind::AtomicStore, 1, Shape::I64, None),
        O::I64AtomicStore16 { memarg, .. } => (memarg, Kind::AtomicStore, 2, Shape::I64, None),
        O::I64AtomicStore32 { memarg, .. } => (memarg, Kind::AtomicStore, 4, Shape::I64, None),
        O::I64AtomicStore { memarg, .. } => (memarg, Kind::AtomicStore, 8, Shape::I64, None),
        O::I32Load8S { memarg, .. } | O::I32Load8U { memarg, .. } | O::I64Load8S { memarg, .. } | O::I64Load8U { memarg, .. } | O::V128Load8Splat { memarg, .. } => (memarg, Kind::Read, 1, Shape::Addr, None),
        O::I32Load16S { memarg, .. } | O::I32Load16U { memarg, .. } | O::I64Load16S { memarg, .. } | O::I64Load16U { memarg, .. } | O::V128Load16Splat { memarg, .. } => (memarg, Kind::Read, 2, Shape::Addr, None),
        O::I32Load { memarg, .. } | O::F32Load { memarg, .. } | O::I64Load32S { memarg, .. } | O::I64Load32U { memarg, .. } | O::V128Load32Splat { memarg, .. } | O::V128Load32Zero { memarg, .. } => (memarg, Kind::Read, 4, Shape::Addr, None),
        O::I64Load { memarg, .. } | O::F64Load { memarg, .. } | O::V128Load8x8S { memarg, .. } | O::V128Load8x8U { memarg, .. } | O::V128Load16x4S { memarg, .. } | O::V128Load16x4U { memarg, .. } | O::V128Load32x2S { memarg, .. } | O::V128Load32x2U { memarg, .. } | O::V128Load64Splat { memarg, .. } | O::V128Load64Zero { memarg, .. } => (memarg, Kind::Read, 8, Shape::Addr, None),
        O::V128Load { memarg, .. } => (memarg, Kind::Read, 16, Shape::Addr, None),
        O::V128Load8Lane { memarg, .. } => (memarg, Kind::Read, 1, Shape::V128, None),
        O::V128Load16Lane { memarg, .. } => (memarg, Kind::Read, 2, Shape::V128, None),
        O::V128Load32Lane { memarg, .. } => (memarg, Kind::Read, 4, Shape::V128, None),
        O::V128Load64Lane { memarg, .. } => (memarg, Kind::Read, 8, Shape::V128, None),
        O::F32Store { memarg, .. } => (memarg, Kind::Write, 4, Shape::F32, None),
        O::F64Store { memarg, .. } => (memarg, Kind::Write, 8, Shape::F64, None),
        O::I32Store8 { memarg, .. } => (memarg, Kind::Write, 1, Shape::I32, None),
        O::I32Store16 { memarg, .. } => (memarg, Kind::Write, 2, Shape::I32, None),
        O::I32Store { memarg, .. } => (memarg, Kind::Write, 4, Shape::I32, None),
        O::I64Store8 { memarg, .. } => (memarg, Kind::Write, 1, Shape::I64, None),
        O::I64Store16 { memarg, .. } => (memarg, Kind::Write, 2, Shape::I64, None),
        O::I64Store32 { memarg, .. } => (memarg, Kind::Write, 4, Shape::I64, None),
        O::I64Store { memarg, .. } => (memarg, Kind::Write, 8, Shape::I64, None),
        O::V128Store8Lane { memarg, .. } => (memarg, Kind::Write, 1, Shape::V128, None),
        O::V128Store16Lane { memarg, .. } => (memarg, Kind::Write, 2, Shape::V128, None),
        O::V128Store32Lane { memarg, .. } => (memarg, Kind::Write, 4, Shape::V128, None),
        O::V128Store64Lane { memarg, .. } => (memarg, Kind::Write, 8, Shape::V128, None),
        O::V128Store { memarg, .. } => (memarg, Kind::Write, 16, Shape::V128, None),
        _ => return None,
    };
    Some((memarg, kind, size, before, after))
}
