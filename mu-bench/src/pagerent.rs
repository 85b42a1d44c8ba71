//! The machine's price for touching memory again after a quiet second ("page rent").
//!
//! On some virtual machines (the 2-core VM these figures come from is one) a 4 KiB page that a
//! process has not touched for about a second costs tens of microseconds on its next touch, while
//! the same touch after a millisecond costs nothing measurable: the hypervisor drops its mappings
//! of idle guest pages. An idle server pays this for every page it touches once a second, so on
//! such a machine the idle rows measure page footprint more than work. The probe prints both
//! prices in the report header so a reader can tell which kind of machine produced the table.

use std::time::{Duration, Instant};

const PAGES: usize = 256;
const PAGE: usize = 4096;

/// One probe: touches one cache line in each of `PAGES` 4 KiB pages after sleeping `idle`, and
/// returns the time per page in µs.
fn touch_after(buf: &mut [u8], idle: Duration) -> f64 {
    std::thread::sleep(idle);
    let t0 = Instant::now();
    let mut sum = 0u64;
    for p in 0..PAGES {
        // Volatile so the compiler keeps one real access per page.
        // SAFETY: p * PAGE < buf.len(); the pointer is in bounds and the byte initialized.
        sum =
            sum.wrapping_add(unsafe { std::ptr::read_volatile(buf.as_ptr().add(p * PAGE)) } as u64);
    }
    let el = t0.elapsed();
    buf[0] = buf[0].wrapping_add(sum as u8);
    el.as_secs_f64() * 1e6 / PAGES as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// µs per 4 KiB page touched after 1 s and after 1 ms of idleness (medians of 3 probes each,
/// about 3 s in all). Small pages are asked for explicitly (MADV_NOHUGEPAGE), as an idle
/// process's heap and stacks mostly are.
pub fn measure() -> (f64, f64) {
    let mut buf: Vec<u8> = Vec::with_capacity((PAGES + 1) * PAGE);
    let off = buf.as_ptr().align_offset(PAGE);
    // SAFETY: advice on page-aligned memory we own, before its first touch; failure (e.g. no
    // THP support) changes nothing we rely on.
    unsafe {
        libc::madvise(
            buf.as_mut_ptr().add(off) as *mut libc::c_void,
            PAGES * PAGE,
            libc::MADV_NOHUGEPAGE,
        );
    }
    buf.resize((PAGES + 1) * PAGE, 1);
    let buf = &mut buf[off..off + PAGES * PAGE];
    let slow = (0..3)
        .map(|_| touch_after(buf, Duration::from_secs(1)))
        .collect();
    let fast = (0..3)
        .map(|_| touch_after(buf, Duration::from_millis(1)))
        .collect();
    (median(slow), median(fast))
}
