//! setsockopt / getsockopt, passed to the kernel as they are.
//!
//! Values are ints or raw bytes, as in Python. Two conveniences, because the
//! script language has no `struct.pack`: an int given for SO_RCVTIMEO or
//! SO_SNDTIMEO is seconds (a `struct timeval` is built), and an int given for
//! SO_LINGER is the linger time with linger on (negative: off).

use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::Socket;
use socklab_wire::protocol::{Bytes, OptValue, Ret};

use super::ExecError;

fn is_timeval(level: i32, opt: i32) -> bool {
    level == libc::SOL_SOCKET && (opt == libc::SO_RCVTIMEO || opt == libc::SO_SNDTIMEO)
}

pub fn set(sock: &Socket, level: i32, opt: i32, value: &OptValue) -> Result<Ret, ExecError> {
    let bytes: Vec<u8> = match value {
        OptValue::Int(seconds) if is_timeval(level, opt) => {
            if *seconds < 0 {
                return Err(ExecError::os(libc::EDOM));
            }
            let tv = libc::timeval { tv_sec: *seconds as libc::time_t, tv_usec: 0 };
            as_bytes(&tv)
        }
        OptValue::Int(linger) if level == libc::SOL_SOCKET && opt == libc::SO_LINGER => {
            let l = libc::linger { l_onoff: i32::from(*linger >= 0), l_linger: (*linger).max(0) as i32 };
            as_bytes(&l)
        }
        OptValue::Int(v) => {
            let v = i32::try_from(*v).map_err(|_| ExecError::BadArgument(format!("option value {v} does not fit a C int")))?;
            v.to_ne_bytes().to_vec()
        }
        OptValue::Bytes(b) => b.as_slice().to_vec(),
    };
    if bytes.len() > 1024 {
        return Err(ExecError::BadArgument("option value is longer than 1024 bytes".into()));
    }
    // SAFETY: `bytes` is valid for `bytes.len()` bytes; the kernel validates the option and its length.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            opt,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(ExecError::Os(std::io::Error::last_os_error()));
    }
    Ok(Ret::None)
}

pub fn get(sock: &Socket, level: i32, opt: i32, buflen: Option<u32>) -> Result<Ret, ExecError> {
    if let Some(len) = buflen {
        if len == 0 || len > 1024 {
            return Err(ExecError::BadArgument("getsockopt buflen must be 1..1024".into()));
        }
        let data = raw_get(sock, level, opt, len as usize)?;
        return Ok(Ret::Bytes { data: Bytes::new(data) });
    }
    if is_timeval(level, opt) {
        let timeout = get_timeval(sock, opt)?;
        return Ok(Ret::Int { value: timeout.as_secs() as i64 });
    }
    let data = raw_get(sock, level, opt, 4)?;
    let mut word = [0u8; 4];
    word[..data.len().min(4)].copy_from_slice(&data[..data.len().min(4)]);
    Ok(Ret::Int { value: i32::from_ne_bytes(word).into() })
}

/// A SOL_SOCKET timeval option as a duration (zero: no timeout).
pub fn get_timeval(sock: &Socket, opt: i32) -> Result<Duration, ExecError> {
    let data = raw_get(sock, libc::SOL_SOCKET, opt, std::mem::size_of::<libc::timeval>())?;
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let n = data.len().min(std::mem::size_of::<libc::timeval>());
    // SAFETY: copying at most size_of::<timeval>() plain bytes into a timeval.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), (&raw mut tv).cast::<u8>(), n) };
    let secs = Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64);
    Ok(secs)
}

fn raw_get(sock: &Socket, level: i32, opt: i32, len: usize) -> Result<Vec<u8>, ExecError> {
    let mut buf = vec![0u8; len];
    let mut optlen = len as libc::socklen_t;
    // SAFETY: `buf` has room for `optlen` bytes; the kernel writes at most that and updates `optlen`.
    let rc = unsafe { libc::getsockopt(sock.as_raw_fd(), level, opt, buf.as_mut_ptr().cast(), &mut optlen) };
    if rc < 0 {
        return Err(ExecError::Os(std::io::Error::last_os_error()));
    }
    buf.truncate(optlen as usize);
    Ok(buf)
}

fn as_bytes<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: `T` is a plain C struct (timeval, linger) with no padding read as uninitialised:
    // both are fully initialised above.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>()).to_vec() }
}
