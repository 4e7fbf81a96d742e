//! Error messages built without `core::fmt`, whose formatting machinery would be a large
//! share of this small guest: `msg!("a", 1u64, name)` appends each piece's text.

/// Something that can be appended to a message.
pub trait Piece {
    fn push_to(&self, out: &mut String);
}

impl Piece for str {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for u64 {
    fn push_to(&self, out: &mut String) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut n = *self;
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
    }
}

impl Piece for u32 {
    fn push_to(&self, out: &mut String) {
        u64::from(*self).push_to(out);
    }
}

impl Piece for usize {
    fn push_to(&self, out: &mut String) {
        (*self as u64).push_to(out);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
}

/// Concatenates the text of each piece into a new `String`.
macro_rules! msg {
    ($($piece:expr),+ $(,)?) => {{
        let mut out = String::new();
        $( $crate::msg::Piece::push_to(&$piece, &mut out); )+
        out
    }};
}

pub(crate) use msg;

#[cfg(test)]
mod tests {
    #[test]
    fn pieces() {
        let name = String::from("dev");
        assert_eq!(
            msg!("a ", 0u64, " b ", u64::MAX, " ", &name, " ", 512u32, " ", 7usize),
            format!("a 0 b {} dev 512 7", u64::MAX)
        );
    }
}
