//! `random_get`: the host's CSPRNG (`getrandom(2)`), per call, no shared
//! state and no lock, so threads never wait for each other.

use crate::wasi::errno::Errno;
use crate::wasi::memory::MemView;

const STEP: usize = 64 * 1024;

/// Fills `buf..buf+len` of guest memory with random bytes.
pub fn fill(mem: &MemView, buf: u32, len: u32) -> Result<(), Errno> {
    if buf as u64 + len as u64 > mem.len() as u64 {
        return Err(Errno::FAULT);
    }
    let mut chunk = vec![0u8; (len as usize).min(STEP)];
    let mut done = 0u32;
    while done < len {
        let n = ((len - done) as usize).min(STEP);
        getrandom::fill(&mut chunk[..n]).map_err(|_| Errno::IO)?;
        mem.write(buf + done, &chunk[..n])?;
        done += n as u32;
    }
    Ok(())
}
