//! One pass over a buffer that finds every line and, in the same pass, the position of every
//! separator byte in it (a quote for NCSA; a space for W3C, where a quote is recorded too, so
//! that a line with quotes never looks like a plain one).
//!
//! Written by hand because this loop is the whole cost of reading a log: two `memchr` passes
//! (one for the newline, one per field) spend most of their time starting and stopping. Here
//! 64 bytes at a time are compared against the separator and the newline with AVX2 (or SSE2,
//! which every x86-64 has), the matches become bitmasks, and the bits are walked in order.
//! Other architectures use the plain loop, which gives the same results (a test checks).

/// The most separators recorded per line; later ones are ignored.
pub const MAX_SEPS: usize = 64;

/// Calls `f(line, seps)` for every line of `buf` (the trailing `\r` of CRLF kept), where
/// `seps` holds the offsets within the line of its first separators (`sep`, and `also` when
/// given), up to `keep` of them.
#[inline]
pub fn for_each_line(
    buf: &[u8],
    sep: u8,
    also: Option<u8>,
    keep: usize,
    mut f: impl FnMut(&[u8], &[u32]),
) {
    let keep = keep.min(MAX_SEPS);
    // The second byte is a const parameter: a format with one separator pays nothing for it.
    let also_or_sep = also.unwrap_or(sep);
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe {
                match also {
                    None => x86::lines_avx2::<false>(buf, sep, sep, keep, &mut f),
                    Some(_) => x86::lines_avx2::<true>(buf, sep, also_or_sep, keep, &mut f),
                }
            };
        } else {
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe {
                match also {
                    None => x86::lines_sse2::<false>(buf, sep, sep, keep, &mut f),
                    Some(_) => x86::lines_sse2::<true>(buf, sep, also_or_sep, keep, &mut f),
                }
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    scalar(buf, sep, also_or_sep, keep, &mut f);
}

/// The reference implementation (and the one for other architectures); `also` may equal `sep`.
pub fn scalar(buf: &[u8], sep: u8, also: u8, keep: usize, f: &mut impl FnMut(&[u8], &[u32])) {
    let mut seps = [0u32; MAX_SEPS];
    let mut n = 0;
    let mut start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            f(&buf[start..i], &seps[..n]);
            n = 0;
            start = i + 1;
        } else if (b == sep || b == also) && n < keep {
            seps[n] = (i - start) as u32;
            n += 1;
        }
    }
    if start < buf.len() {
        f(&buf[start..], &seps[..n]);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Walks the bits of one block: `nl` newlines, `sp` separators, block starting at `base`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn walk(
        buf: &[u8],
        base: usize,
        mut bits: u64,
        nl: u64,
        seps: &mut [u32; super::MAX_SEPS],
        n: &mut usize,
        start: &mut usize,
        keep: usize,
        f: &mut impl FnMut(&[u8], &[u32]),
    ) {
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let pos = base + i;
            if nl & (1 << i) != 0 {
                f(&buf[*start..pos], &seps[..*n]);
                *n = 0;
                *start = pos + 1;
            } else if *n < keep {
                seps[*n] = (pos - *start) as u32;
                *n += 1;
            }
        }
    }

    /// `ALSO`: `also` is a second separator (else it equals `sep` and is not looked for).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn lines_avx2<const ALSO: bool>(
        buf: &[u8],
        sep: u8,
        also: u8,
        keep: usize,
        f: &mut impl FnMut(&[u8], &[u32]),
    ) {
        let mut seps = [0u32; super::MAX_SEPS];
        let (mut n, mut start, mut base) = (0usize, 0usize, 0usize);
        let vnl = _mm256_set1_epi8(b'\n' as i8);
        let vsp = _mm256_set1_epi8(sep as i8);
        let vq = _mm256_set1_epi8(also as i8);
        while base + 64 <= buf.len() {
            // SAFETY: base + 64 <= len, and the loads are unaligned.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(buf.as_ptr().add(base) as *const __m256i),
                    _mm256_loadu_si256(buf.as_ptr().add(base + 32) as *const __m256i),
                )
            };
            let nl_lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vnl)) as u32 as u64;
            let nl_hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vnl)) as u32 as u64;
            let (sp_lo, sp_hi) = if ALSO {
                (
                    _mm256_movemask_epi8(_mm256_or_si256(
                        _mm256_cmpeq_epi8(a, vsp),
                        _mm256_cmpeq_epi8(a, vq),
                    )) as u32 as u64,
                    _mm256_movemask_epi8(_mm256_or_si256(
                        _mm256_cmpeq_epi8(b, vsp),
                        _mm256_cmpeq_epi8(b, vq),
                    )) as u32 as u64,
                )
            } else {
                (
                    _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vsp)) as u32 as u64,
                    _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vsp)) as u32 as u64,
                )
            };
            let nl = nl_lo | (nl_hi << 32);
            let bits = if keep == 0 {
                nl
            } else {
                nl | sp_lo | (sp_hi << 32)
            };
            walk(buf, base, bits, nl, &mut seps, &mut n, &mut start, keep, f);
            base += 64;
        }
        tail(buf, base, sep, also, keep, &mut seps, &mut n, &mut start, f);
    }

    /// As [`lines_avx2`], 16 bytes at a time.
    ///
    /// # Safety
    /// SSE2 is always available on x86-64.
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn lines_sse2<const ALSO: bool>(
        buf: &[u8],
        sep: u8,
        also: u8,
        keep: usize,
        f: &mut impl FnMut(&[u8], &[u32]),
    ) {
        let mut seps = [0u32; super::MAX_SEPS];
        let (mut n, mut start, mut base) = (0usize, 0usize, 0usize);
        let vnl = _mm_set1_epi8(b'\n' as i8);
        let vsp = _mm_set1_epi8(sep as i8);
        let vq = _mm_set1_epi8(also as i8);
        while base + 64 <= buf.len() {
            let mut nl = 0u64;
            let mut sp = 0u64;
            for k in 0..4 {
                // SAFETY: base + 16 * k + 16 <= base + 64 <= len.
                let v =
                    unsafe { _mm_loadu_si128(buf.as_ptr().add(base + 16 * k) as *const __m128i) };
                nl |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, vnl)) as u16 as u64) << (16 * k);
                let m = if ALSO {
                    _mm_or_si128(_mm_cmpeq_epi8(v, vsp), _mm_cmpeq_epi8(v, vq))
                } else {
                    _mm_cmpeq_epi8(v, vsp)
                };
                sp |= (_mm_movemask_epi8(m) as u16 as u64) << (16 * k);
            }
            walk(
                buf,
                base,
                if keep == 0 { nl } else { nl | sp },
                nl,
                &mut seps,
                &mut n,
                &mut start,
                keep,
                f,
            );
            base += 64;
        }
        tail(buf, base, sep, also, keep, &mut seps, &mut n, &mut start, f);
    }

    /// The last partial block, byte by byte, and a final line without a newline.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn tail(
        buf: &[u8],
        base: usize,
        sep: u8,
        also: u8,
        keep: usize,
        seps: &mut [u32; super::MAX_SEPS],
        n: &mut usize,
        start: &mut usize,
        f: &mut impl FnMut(&[u8], &[u32]),
    ) {
        for (j, &b) in buf[base..].iter().enumerate() {
            let pos = base + j;
            if b == b'\n' {
                f(&buf[*start..pos], &seps[..*n]);
                *n = 0;
                *start = pos + 1;
            } else if (b == sep || b == also) && *n < keep {
                seps[*n] = (pos - *start) as u32;
                *n += 1;
            }
        }
        if *start < buf.len() {
            f(&buf[*start..], &seps[..*n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(buf: &[u8], keep: usize, fast: bool) -> Vec<(Vec<u8>, Vec<u32>)> {
        collect_also(buf, None, keep, fast)
    }

    fn collect_also(
        buf: &[u8],
        also: Option<u8>,
        keep: usize,
        fast: bool,
    ) -> Vec<(Vec<u8>, Vec<u32>)> {
        let mut out = Vec::new();
        let mut push = |l: &[u8], s: &[u32]| out.push((l.to_vec(), s.to_vec()));
        if fast {
            for_each_line(buf, b' ', also, keep, push);
        } else {
            scalar(buf, b' ', also.unwrap_or(b' '), keep, &mut push);
        }
        out
    }

    #[test]
    fn lines_and_fields() {
        let got = collect(b"a b c\nd e\n\nlast line", 8, true);
        assert_eq!(
            got,
            [
                (b"a b c".to_vec(), vec![1, 3]),
                (b"d e".to_vec(), vec![1]),
                (b"".to_vec(), vec![]),
                (b"last line".to_vec(), vec![4])
            ]
        );
        assert_eq!(
            collect(b"a b c d", 2, true),
            [(b"a b c d".to_vec(), vec![1, 3])]
        );
        assert_eq!(
            collect_also(b"a \"b c\"\nd", Some(b'"'), 8, true),
            [
                (b"a \"b c\"".to_vec(), vec![1, 2, 4, 6]),
                (b"d".to_vec(), vec![])
            ]
        );
    }

    proptest! {
        #[test]
        fn simd_agrees_with_the_plain_loop(bytes in proptest::collection::vec(prop::sample::select(vec![b' ', b'\n', b'a', b'\r', b'"', 0xff]), 0..700), keep in 0usize..70, also in prop::option::of(prop::sample::select(vec![b'"', b'a', b' ']))) {
            prop_assert_eq!(collect_also(&bytes, also, keep, true), collect_also(&bytes, also, keep, false));
        }
    }
}
