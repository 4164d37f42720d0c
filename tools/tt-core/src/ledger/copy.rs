//! A ledger's record lines, streamed: `COPY (SELECT line … ORDER BY seq) TO STDOUT (FORMAT binary)` decoded on a
//! thread of its own into blocks of whole `line\n`s, which [`Lines`] hands to the readers as a JSONL file's
//! bytes. The binary format carries each line as its exact bytes (the text format would escape backslashes,
//! which every JSON escape has), and the thread lets decoding overlap parsing. A big ledger is read as several
//! such streams, one connection each, in one snapshot (`Ledger::lines_in_parts`).

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::error::Result;

/// How many bytes of lines go in one block handed over.
const BLOCK: usize = 256 * 1024;

/// The binary COPY format's signature, which starts the stream.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// A ledger's lines as one byte stream (see the module docs). An error on the server or the connection part
/// way is an I/O error of the stream, which the readers report as `LEDGER: …`.
pub struct Lines {
    rx: Receiver<std::result::Result<Vec<u8>, String>>,
    block: Vec<u8>,
    at: usize,
    done: bool,
}

impl Lines {
    /// Start streaming the lines `select` gives (a query of one text column, in the order they are to be read)
    /// on a thread that owns the connection.
    pub(super) fn start(mut client: postgres::Client, name: String, select: String) -> Result<Lines> {
        let (tx, rx) = sync_channel(4);
        std::thread::Builder::new()
            .name("tt-ledger-copy".into())
            .spawn(move || {
                if let Err(e) = stream(&mut client, &select, &tx) {
                    let _ = tx.send(Err(format!("ledger {name}: read: {e}")));
                }
            })
            .map_err(|e| crate::error::Error::io("start the ledger reader", e))?;
        Ok(Lines { rx, block: Vec::new(), at: 0, done: false })
    }
}

impl Read for Lines {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(b)) => (self.block, self.at) = (b, 0),
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(e));
                }
                // The thread ended after its last block.
                Err(_) => self.done = true,
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Run the COPY and send its lines in blocks; a dropped receiver (the reader stopped early) ends it quietly.
fn stream(
    client: &mut postgres::Client,
    select: &str,
    tx: &SyncSender<std::result::Result<Vec<u8>, String>>,
) -> std::result::Result<(), String> {
    let mut block = Vec::with_capacity(BLOCK + 4096);
    let mut stopped = false;
    each_line(client, select, &mut |line| {
        block.extend_from_slice(line);
        block.push(b'\n');
        if block.len() >= BLOCK {
            let full = std::mem::replace(&mut block, Vec::with_capacity(BLOCK + 4096));
            stopped = tx.send(Ok(full)).is_err();
        }
        !stopped
    })?;
    if !block.is_empty() && !stopped {
        let _ = tx.send(Ok(block));
    }
    Ok(())
}

/// Run `select` (a query of one text column) as a binary `COPY … TO STDOUT` on `client` and hand each row's
/// bytes to `f`, which returns `false` to stop early. The binary format gives each line as its exact bytes, and
/// a COPY streams rows faster than a query's result messages.
///
/// The server sends a row per message; a row that lies whole in the message the driver holds is handed to `f`
/// from there, without a copy (a million lines are a few hundred MB: each copy is a visible share of a read).
/// A row split between messages, which the protocol allows, is gathered first.
pub(super) fn each_line(
    client: &mut impl postgres::GenericClient,
    select: &str,
    f: &mut dyn FnMut(&[u8]) -> bool,
) -> std::result::Result<(), String> {
    use std::io::BufRead;
    let mut r = client
        .copy_out(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .map_err(|e| super::conn::describe(&e))?;
    let io_err = |e: io::Error| e.to_string();
    let mut head = [0u8; 19];
    r.read_exact(&mut head).map_err(io_err)?;
    if &head[..11] != SIGNATURE {
        return Err("the server's COPY stream has no binary signature".into());
    }
    let ext = u32::from_be_bytes([head[15], head[16], head[17], head[18]]) as u64;
    io::copy(&mut (&mut r).take(ext), &mut io::sink()).map_err(io_err)?;
    let mut line = Vec::with_capacity(4096);
    loop {
        // A whole row in the driver's buffer: read in place.
        let buf = r.fill_buf().map_err(io_err)?;
        if let Some((1, len)) = row_head(buf)
            && len >= 0
            && buf.len() >= 6 + len as usize
        {
            let end = 6 + len as usize;
            let go = f(&buf[6..end]);
            r.consume(end);
            if !go {
                // The rest of the stream is not read: dropping the reader before its end makes the driver cancel
                // the COPY, and the connection is not used again.
                return Ok(());
            }
            continue;
        }
        // Else byte by byte across messages (and the trailer, and every malformed row, said below).
        let mut n = [0u8; 2];
        r.read_exact(&mut n).map_err(io_err)?;
        let fields = i16::from_be_bytes(n);
        if fields == -1 {
            break;
        }
        if fields != 1 {
            return Err(format!("the server sent a row of {fields} fields, not 1"));
        }
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(io_err)?;
        let len = i32::from_be_bytes(len);
        if len < 0 {
            return Err("the server sent a NULL line".into());
        }
        line.resize(len as usize, 0);
        r.read_exact(&mut line).map_err(io_err)?;
        if !f(&line) {
            return Ok(());
        }
    }
    Ok(())
}

/// The field count and first field's length at the start of a row in `buf`, when both are there.
fn row_head(buf: &[u8]) -> Option<(i16, i32)> {
    let h = buf.get(..6)?;
    Some((i16::from_be_bytes([h[0], h[1]]), i32::from_be_bytes([h[2], h[3], h[4], h[5]])))
}
