//! One spelling for every question and every word of the model: Unicode NFKC (full-width
//! letters and digits become ASCII), lower case, punctuation that never carries meaning turned
//! into spaces, runs of spaces collapsed. Matching then works on byte offsets of this text.

use unicode_normalization::UnicodeNormalization;

pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        let c = match c {
            '?' | '!' | ',' | '"' | '“' | '”' | '‘' | '’' | '`' | '(' | ')' | '[' | ']' | '…'
            | '·' | ':' | ';' => ' ',
            '「' | '」' | '『' | '』' => ' ',
            // The wave dash some Korean keyboards type for ranges ("11월〜12월").
            '〜' => '~',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A precomposed Hangul syllable (가..힣): what Korean words of the model are written in.
pub(crate) fn is_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_width_case_spacing_and_punctuation() {
        assert_eq!(
            normalize("  지난　７일   디바이스별 방문자 수?? "),
            "지난 7일 디바이스별 방문자 수"
        );
        assert_eq!(
            normalize("Top 10 PRODUCTS, by Revenue!"),
            "top 10 products by revenue"
        );
        assert_eq!(normalize("add_to_cart 이벤트"), "add_to_cart 이벤트");
        assert_eq!(normalize("11월～12월"), "11월~12월");
        assert_eq!(normalize(""), "");
    }
}
