//! Standard output and error as Unix tools treat them.
//!
//! A reader that goes away (`poolstack check | head`) closes the pipe: what is still to be printed
//! is dropped without a word — no panic, no "Broken pipe" message — and the command finishes its
//! work (a render is never cut short between two files) and exits with its usual code. Output that
//! is not a terminal is block-buffered, as C's stdio does, so that 10,000 lines are a few `write`
//! calls rather than 10,000.

use std::io::{self, IsTerminal, Write};

/// A writer that treats a closed pipe as the end of its output.
pub struct Quiet<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Quiet<W> {
    pub fn new(inner: W) -> Quiet<W> {
        Quiet {
            inner,
            closed: false,
        }
    }

    /// Whether the reader has gone away.
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn quiet<T>(&mut self, r: io::Result<T>, done: T) -> io::Result<T> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.quiet(r, buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.write_all(buf);
        self.quiet(r, ())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.quiet(r, ())
    }
}

/// Standard output: line-buffered on a terminal (prompts and progress show at once), else
/// block-buffered; a closed pipe ends it quietly. Flush it before the process exits.
pub fn stdout() -> Quiet<Box<dyn Write>> {
    let out = io::stdout();
    let inner: Box<dyn Write> = match out.is_terminal() {
        true => Box::new(out.lock()),
        false => Box::new(io::BufWriter::with_capacity(64 * 1024, out.lock())),
    };
    Quiet::new(inner)
}

/// Standard error, unbuffered; a closed pipe ends it quietly.
pub fn stderr() -> Quiet<io::StderrLock<'static>> {
    Quiet::new(io::stderr().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader has gone after `room` bytes.
    struct Pipe {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_without_an_error() {
        let mut w = Quiet::new(Pipe {
            room: 5,
            got: Vec::new(),
        });
        assert!(writeln!(w, "first line").is_ok());
        assert!(w.closed());
        assert!(writeln!(w, "second line").is_ok());
        assert!(w.flush().is_ok());
        assert_eq!(w.inner.got, b"first");
    }

    #[test]
    fn other_errors_still_count() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::StorageFull))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = Quiet::new(Full);
        assert!(w.write_all(b"x").is_err());
        assert!(!w.closed());
    }
}
