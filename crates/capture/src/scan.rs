//! Finds the elements of one array inside a large JSON document (a HAR's `log.entries`) and hands
//! out each element's bytes, so that serde parses every entry from a slice. serde_json reading
//! from an `io::Read` goes byte by byte through the reader (≈ 45 MB/s on a HAR); from a slice it
//! is several times faster, and this scan (strings and nesting only) runs at memory speed. Hand
//! written because no crate streams the elements of a nested array as slices.

use std::io::{self, Read};

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// What [`Scanner::next_item`] found.
pub(crate) enum Item {
    /// An element's bytes are `scanner.item()`.
    Value,
    /// The array's closing `]`.
    End,
    /// The input ended inside the array (a file cut short).
    Eof,
}

pub(crate) struct Scanner<R> {
    r: R,
    buf: Vec<u8>,
    /// Where scanning resumes.
    pos: usize,
    /// The current element's start and end.
    item: (usize, usize),
    eof: bool,
    /// Bytes dropped from the front of `buf` so far (for messages).
    dropped: usize,
}

impl<R: Read> Scanner<R> {
    pub(crate) fn new(r: R) -> Self {
        Scanner {
            r,
            buf: Vec::with_capacity(CHUNK),
            pos: 0,
            item: (0, 0),
            eof: false,
            dropped: 0,
        }
    }

    /// Reads more; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let n = loop {
            match self.r.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(len + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Drops what was handed out already.
    fn compact(&mut self) {
        if self.pos > CHUNK {
            self.buf.drain(..self.pos);
            self.dropped += self.pos;
            self.item = (0, 0);
            self.pos = 0;
        }
    }

    /// Bytes consumed from the input up to where scanning stands.
    pub(crate) fn offset(&self) -> usize {
        self.dropped + self.pos
    }

    /// Everything read so far and the rest of the input, for a reader that starts over.
    pub(crate) fn into_rest(self) -> impl Read {
        io::Cursor::new(self.buf).chain(self.r)
    }

    /// Finds the array at `path` (object keys from the top, e.g. `["log", "entries"]`) and stands
    /// just inside its `[`; returns the bytes before it. `None`: the document has no such array
    /// (or is not JSON of that shape); nothing has been dropped, see [`Scanner::into_rest`].
    pub(crate) fn find_array(&mut self, path: &[&str]) -> io::Result<Option<Vec<u8>>> {
        // The open objects and arrays: (is an object, the key it is the value of).
        let mut stack: Vec<(bool, Option<Vec<u8>>)> = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        let mut expect_key = false;
        let mut i = 0;
        loop {
            if i >= self.buf.len() {
                if !self.fill()? {
                    return Ok(None);
                }
                continue;
            }
            let b = self.buf[i];
            match b {
                b'"' => {
                    // A string: find its end (escapes skipped), reading more as needed.
                    let start = i + 1;
                    let mut j = start;
                    loop {
                        while j < self.buf.len() && self.buf[j] != b'"' && self.buf[j] != b'\\' {
                            j += 1;
                        }
                        if j >= self.buf.len() {
                            if !self.fill()? {
                                return Ok(None);
                            }
                            continue;
                        }
                        if self.buf[j] == b'\\' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    if expect_key {
                        key = Some(self.buf[start..j].to_vec());
                        expect_key = false;
                    }
                    i = j + 1;
                }
                b'{' => {
                    stack.push((true, key.take()));
                    expect_key = true;
                    i += 1;
                }
                b'[' => {
                    let here = key.take();
                    // The root object, then one object per key of the path but the last.
                    let wanted = !path.is_empty()
                        && stack.len() == path.len()
                        && stack.iter().all(|(obj, _)| *obj)
                        && stack[0].1.is_none()
                        && stack[1..]
                            .iter()
                            .zip(path)
                            .all(|((_, k), p)| k.as_deref() == Some(p.as_bytes()))
                        && here.as_deref() == path.last().map(|p| p.as_bytes());
                    if wanted {
                        self.pos = i + 1;
                        return Ok(Some(self.buf[..i].to_vec()));
                    }
                    stack.push((false, here));
                    i += 1;
                }
                b'}' | b']' => {
                    stack.pop();
                    expect_key = false;
                    i += 1;
                }
                b',' => {
                    // In an object a key comes next; in an array, a value.
                    expect_key = stack.last().is_some_and(|(obj, _)| *obj);
                    key = None;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// The next element of the array found by [`Scanner::find_array`].
    pub(crate) fn next_item(&mut self) -> io::Result<Item> {
        self.compact();
        // Skip separators.
        loop {
            while self.pos < self.buf.len()
                && matches!(self.buf[self.pos], b' ' | b'\n' | b'\r' | b'\t' | b',')
            {
                self.pos += 1;
            }
            if self.pos < self.buf.len() {
                break;
            }
            if !self.fill()? {
                return Ok(Item::Eof);
            }
        }
        if self.buf[self.pos] == b']' {
            self.pos += 1;
            return Ok(Item::End);
        }
        let start = self.pos;
        let mut i = start;
        let mut depth = 0usize;
        let mut in_string = false;
        loop {
            if i >= self.buf.len() {
                if !self.fill()? {
                    return Ok(Item::Eof);
                }
                continue;
            }
            if in_string {
                // Strings are most of a HAR's bytes: jump to the next quote or backslash.
                match memchr::memchr2(b'"', b'\\', &self.buf[i..]) {
                    None => i = self.buf.len(),
                    Some(k) => {
                        i += k;
                        if self.buf[i] == b'"' {
                            in_string = false;
                            i += 1;
                        } else {
                            i += 2;
                        }
                    }
                }
                continue;
            }
            let b = self.buf[i];
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => break, // the array's end after a scalar
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        // A stray `}` where an element belongs: hand it out (it will not parse) so that the
        // scan always moves on.
        let i = i.max(start + 1);
        self.item = (start, i);
        self.pos = i;
        Ok(Item::Value)
    }

    /// The bytes of the element [`Scanner::next_item`] found.
    pub(crate) fn item(&self) -> &[u8] {
        &self.buf[self.item.0..self.item.1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(doc: &str) -> (Option<String>, Vec<String>, bool) {
        let mut s = Scanner::new(doc.as_bytes());
        let Some(prefix) = s.find_array(&["log", "entries"]).unwrap() else {
            return (None, vec![], false);
        };
        let mut out = Vec::new();
        loop {
            match s.next_item().unwrap() {
                Item::Value => out.push(String::from_utf8_lossy(s.item()).into_owned()),
                Item::End => return (Some(String::from_utf8(prefix).unwrap()), out, true),
                Item::Eof => return (Some(String::from_utf8(prefix).unwrap()), out, false),
            }
        }
    }

    #[test]
    fn the_entries_and_nothing_else() {
        let doc = r#"{"x":{"entries":[1]},"log":{"creator":{"name":"a]\"{"},"pages":[{"entries":[9]}],"entries":[ {"a":"}"} , {"b":[1,{"c":2}]} ]}}"#;
        let (prefix, got, closed) = items(doc);
        assert!(prefix.unwrap().ends_with(r#""entries":"#));
        assert_eq!(got, vec![r#"{"a":"}"}"#, r#"{"b":[1,{"c":2}]}"#]);
        assert!(closed);
        let (_, got, closed) = items(&doc[..doc.find(r#"{"b""#).unwrap() + 5]);
        assert_eq!(got.len(), 1);
        assert!(!closed);
        assert_eq!(items(r#"{"test":{"log":{"entries":[]}}}"#).0, None);
    }
}
