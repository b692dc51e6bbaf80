//! Typos: edit distance on Latin letters and on Hangul jamo (a syllable is two or three
//! letters, so "세숀" is one letter from "세션", not one syllable), allowed edits scaled by the
//! word's length. A correction is taken only when exactly one thing of the model is nearest.

/// The letters of a word: Latin as written, each Hangul syllable as its initial, vowel and
/// optional final jamo (indices offset per position so that the three never compare equal).
pub(super) fn letters(word: &str) -> Vec<u32> {
    let mut out = Vec::with_capacity(word.len());
    for c in word.chars() {
        let code = c as u32;
        if (0xAC00..=0xD7A3).contains(&code) {
            let s = code - 0xAC00;
            out.push(0x1100 + s / (21 * 28));
            out.push(0x1161 + (s % (21 * 28)) / 28);
            if !s.is_multiple_of(28) {
                out.push(0x11A7 + s % 28);
            }
        } else {
            out.push(code);
        }
    }
    out
}

/// How many edits a word of this script and length may carry: none for short Latin words
/// (too many real words are one letter apart) and one-syllable Korean words; one up to
/// eight letters; two beyond.
pub(super) fn allowed(word: &str) -> usize {
    let chars: Vec<char> = word.chars().collect();
    let hangul = chars.iter().copied().all(crate::normalize::is_syllable);
    let latin = chars
        .iter()
        .all(|c| c.is_ascii_lowercase() || *c == '-' || *c == '\'');
    let n = letters(word).len();
    match (hangul, latin) {
        (true, _) if chars.len() >= 2 => {
            if n >= 9 {
                2
            } else {
                1
            }
        }
        (_, true) if chars.len() >= 5 => {
            if chars.len() >= 9 {
                2
            } else {
                1
            }
        }
        _ => 0,
    }
}

/// Optimal string alignment distance (insertions, deletions, substitutions, swaps of
/// neighbours), giving up past `limit`.
pub(super) fn distance(a: &[u32], b: &[u32], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let mut rows = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        let mut best = usize::MAX;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
            best = best.min(d);
        }
        if best > limit {
            return None;
        }
    }
    Some(rows[n][m]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> Option<usize> {
        distance(&letters(a), &letters(b), 2)
    }

    #[test]
    fn hangul_is_compared_by_jamo() {
        assert_eq!(d("세숀", "세션"), Some(1));
        assert_eq!(d("매츨", "매출"), Some(1));
        assert_eq!(d("사용쟈", "사용자"), Some(1));
        assert_eq!(d("매출", "매출"), Some(0));
        assert_eq!(d("국가", "매출"), None);
    }

    #[test]
    fn latin_edits_and_swaps() {
        assert_eq!(d("revnue", "revenue"), Some(1));
        assert_eq!(d("reveune", "revenue"), Some(1));
        assert_eq!(d("purchsers", "purchasers"), Some(1));
        assert_eq!(d("rvnue", "revenue"), Some(2));
    }

    #[test]
    fn allowed_edits_grow_with_length() {
        assert_eq!(allowed("uers"), 0);
        assert_eq!(allowed("revnue"), 1);
        assert_eq!(allowed("purchsers"), 2);
        assert_eq!(allowed("세숀"), 1);
        assert_eq!(allowed("세"), 0);
        assert_eq!(allowed("디바이스카테고리"), 2);
        assert_eq!(allowed("top3"), 0);
    }
}
