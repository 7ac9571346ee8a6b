//! `weft_val_t`: a numeric WebAssembly value crossing the C boundary.

use crate::runtime::{Error, ErrorKind, Val, ValType};

/// Kind tag of a 32-bit integer value.
pub const WEFT_I32: u32 = 0;
/// Kind tag of a 64-bit integer value.
pub const WEFT_I64: u32 = 1;
/// Kind tag of a 32-bit float value.
pub const WEFT_F32: u32 = 2;
/// Kind tag of a 64-bit float value.
pub const WEFT_F64: u32 = 3;

/// The payload of a `weft_val_t`, selected by its `kind`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union weft_val_union_t {
    /// For `WEFT_I32`.
    pub i32: i32,
    /// For `WEFT_I64`.
    pub i64: i64,
    /// For `WEFT_F32`.
    pub f32: f32,
    /// For `WEFT_F64`.
    pub f64: f64,
}

/// A numeric value: `kind` is one of `WEFT_I32`, `WEFT_I64`, `WEFT_F32`, `WEFT_F64`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct weft_val_t {
    /// Which member of `of` is valid.
    pub kind: u32,
    /// The value.
    pub of: weft_val_union_t,
}

pub(crate) fn val_type(kind: u32) -> Result<ValType, Error> {
    Ok(match kind {
        WEFT_I32 => ValType::I32,
        WEFT_I64 => ValType::I64,
        WEFT_F32 => ValType::F32,
        WEFT_F64 => ValType::F64,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown value kind {other} (expected WEFT_I32/I64/F32/F64)"),
            ))
        }
    })
}

/// The `WEFT_*` kind of a numeric value type.
pub(crate) fn kind_of(ty: &ValType) -> Result<u32, Error> {
    match ty {
        ValType::I32 => Ok(WEFT_I32),
        ValType::I64 => Ok(WEFT_I64),
        ValType::F32 => Ok(WEFT_F32),
        ValType::F64 => Ok(WEFT_F64),
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("type {other} cannot cross the C API (only i32, i64, f32, f64)"),
        )),
    }
}

impl weft_val_t {
    pub(crate) fn to_val(self) -> Result<Val, Error> {
        // SAFETY (each arm): `kind` selects the union member the C side wrote.
        Ok(match val_type(self.kind)? {
            ValType::I32 => Val::I32(unsafe { self.of.i32 }),
            ValType::I64 => Val::I64(unsafe { self.of.i64 }),
            ValType::F32 => Val::F32(unsafe { self.of.f32 }.to_bits()),
            _ => Val::F64(unsafe { self.of.f64 }.to_bits()),
        })
    }

    pub(crate) fn from_val(val: &Val) -> Result<weft_val_t, Error> {
        let (kind, of) = match *val {
            Val::I32(v) => (WEFT_I32, weft_val_union_t { i32: v }),
            Val::I64(v) => (WEFT_I64, weft_val_union_t { i64: v }),
            Val::F32(v) => (
                WEFT_F32,
                weft_val_union_t {
                    f32: f32::from_bits(v),
                },
            ),
            Val::F64(v) => (
                WEFT_F64,
                weft_val_union_t {
                    f64: f64::from_bits(v),
                },
            ),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "only numeric values (i32, i64, f32, f64) cross the C API",
                ))
            }
        };
        Ok(weft_val_t { kind, of })
    }
}
