//! `args_*` and `environ_*`: NUL-terminated strings plus a pointer array.

use crate::wasi::errno::Errno;
use crate::wasi::memory::MemView;

/// `*_sizes_get`: the count and the total bytes including NULs.
pub fn sizes(mem: &MemView, items: &[String], count: u32, size: u32) -> Result<(), Errno> {
    let total: usize = items.iter().map(|s| s.len() + 1).sum();
    let total = u32::try_from(total).map_err(|_| Errno::OVERFLOW)?;
    mem.write_u32(count, items.len() as u32)?;
    mem.write_u32(size, total)?;
    Ok(())
}

/// `*_get`: the pointers at `ptrs`, the strings packed at `buf`.
pub fn get(mem: &MemView, items: &[String], ptrs: u32, buf: u32) -> Result<(), Errno> {
    let mut at = buf as u64;
    for (i, s) in items.iter().enumerate() {
        let slot = ptrs as u64 + 4 * i as u64;
        let end = at + s.len() as u64 + 1;
        if slot + 4 > u32::MAX as u64 || end > u32::MAX as u64 {
            return Err(Errno::FAULT);
        }
        mem.write_u32(slot as u32, at as u32)?;
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        mem.write(at as u32, &bytes)?;
        at = end;
    }
    Ok(())
}

/// Environment entries as `KEY=VALUE` strings.
pub fn environ(env: &[(String, String)]) -> Vec<String> {
    env.iter().map(|(k, v)| format!("{k}={v}")).collect()
}
