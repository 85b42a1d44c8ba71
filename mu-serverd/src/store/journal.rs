//! The append-only journal: one framed postcard [`Entry`] per [`Change`], appended with a single
//! `write(2)` on the event-loop thread *before* the frames that relay the change are handed to
//! ZeroMQ. Once `write(2)` returns, the bytes are in the kernel's page cache: a `kill -9` of the
//! daemon cannot lose them, only a power loss can (that is what the fsync policy bounds).

use super::format::{
    self, ChangeRec, Entry, JournalHeader, FORMAT_VERSION, JOURNAL_MAGIC, JOURNAL_VERSION,
};
use super::layout;
use super::record::{self, Damage, Records};
use crate::session::io::Change;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An open journal file being appended to.
pub(crate) struct JournalWriter {
    file: File,
    path: PathBuf,
    /// Length of the file made of whole records (where the next record starts).
    len: u64,
    next_seq: u64,
    payload: Vec<u8>,
    /// Framed records pushed but not yet written.
    pending: Vec<u8>,
    pending_records: u64,
}

impl JournalWriter {
    /// Creates `journal-<generation>.log` (it must not exist) starting at sequence `first_seq`.
    /// The directory entry is not fsynced here; the caller decides when (see `Store`).
    pub(crate) fn create(dir: &Path, generation: u64, first_seq: u64) -> io::Result<Self> {
        let path = layout::journal_path(dir, generation);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let mut w = JournalWriter {
            file,
            path,
            len: 0,
            next_seq: first_seq,
            payload: Vec::new(),
            pending: Vec::new(),
            pending_records: 0,
        };
        let header = JournalHeader {
            magic: JOURNAL_MAGIC,
            version: JOURNAL_VERSION,
            generation,
            first_seq,
        };
        format::encode(&header, &mut w.payload).map_err(|e| io::Error::other(e.to_string()))?;
        let n = record::write_record(&mut w.file, &w.payload);
        match n {
            Ok(n) => w.len = n as u64,
            Err(e) => {
                let _ = fs::remove_file(&w.path);
                return Err(e);
            }
        }
        Ok(w)
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    /// Bytes of whole records in the file.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }
    /// The sequence number the next append will carry.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends one change and writes it at once (see [`JournalWriter::push`] + `flush`).
    #[cfg(test)]
    pub(crate) fn append(&mut self, change: &Change) -> io::Result<u64> {
        let seq = self.push(change)?;
        self.flush_pending()?;
        Ok(seq)
    }

    /// Frames one change into the pending buffer and gives it the next sequence number. Nothing
    /// reaches the file before [`JournalWriter::flush_pending`].
    pub(crate) fn push(&mut self, change: &Change) -> io::Result<u64> {
        let seq = self.next_seq;
        let entry = Entry {
            seq,
            change: ChangeRec::from_change(change),
        };
        format::encode(&entry, &mut self.payload).map_err(|e| io::Error::other(e.to_string()))?;
        if self.payload.len() > record::MAX_RECORD_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record larger than 1 GiB",
            ));
        }
        record::frame_into(&mut self.pending, &self.payload);
        self.pending_records += 1;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Frames a meta record ([`ChangeRec::Time`] or [`ChangeRec::Users`]) into the pending
    /// buffer. It carries the sequence number of the next change and consumes none, so replay
    /// and the sequence checks of recovery never see it. It does not count in
    /// [`JournalWriter::pending_records`].
    pub(crate) fn push_meta(&mut self, meta: ChangeRec<'_>) -> io::Result<()> {
        let entry = Entry {
            seq: self.next_seq,
            change: meta,
        };
        format::encode(&entry, &mut self.payload).map_err(|e| io::Error::other(e.to_string()))?;
        record::frame_into(&mut self.pending, &self.payload);
        Ok(())
    }

    /// Like [`JournalWriter::push`] for a change already encoded as a `ChangeRec` payload (a
    /// restore encodes the whole session off the event loop): only the sequence number is
    /// added. An `Entry` is its `seq` varint followed by its `change`, so the record is the
    /// same bytes `push` would write.
    pub(crate) fn push_encoded(&mut self, change: &[u8]) -> io::Result<u64> {
        let seq = self.next_seq;
        let mut varint = [0u8; 10];
        let v =
            postcard::to_slice(&seq, &mut varint).map_err(|e| io::Error::other(e.to_string()))?;
        let len = v.len() + change.len();
        if len > record::MAX_RECORD_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record larger than 1 GiB",
            ));
        }
        let len_bytes = (len as u32).to_le_bytes();
        let mut h = crc32fast::Hasher::new();
        h.update(&len_bytes);
        h.update(v);
        h.update(change);
        self.pending.reserve(record::HEADER_LEN + len);
        self.pending.extend_from_slice(&len_bytes);
        self.pending.extend_from_slice(&h.finalize().to_le_bytes());
        self.pending.extend_from_slice(v);
        self.pending.extend_from_slice(change);
        self.pending_records += 1;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Room for `bytes` more in the pending buffer (one allocation for a large batch).
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.pending.reserve(bytes);
    }

    /// Records pushed but not yet written.
    pub(crate) fn pending_records(&self) -> u64 {
        self.pending_records
    }

    /// Writes every pushed record with one `write(2)` (more only after a short write). On
    /// failure (disk full, I/O error) the file is cut back to its last whole record, so it
    /// never holds a torn record in its middle, the pending records are dropped, and the error
    /// returned.
    pub(crate) fn flush_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.pending);
        let n = self.pending.len() as u64;
        self.pending.clear();
        self.pending_records = 0;
        match result {
            Ok(()) => {
                self.len += n;
                Ok(())
            }
            Err(e) => {
                // Appends are at the file position; put both the length and the position back.
                let _ = self.file.set_len(self.len);
                let _ = io::Seek::seek(&mut self.file, io::SeekFrom::Start(self.len));
                Err(e)
            }
        }
    }

    /// `fdatasync` of the journal (the `always` policy calls it after every append).
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// A second handle to the same open file, for a background syncer thread.
    pub(crate) fn sync_handle(&self) -> io::Result<File> {
        self.file.try_clone()
    }
}

/// A journal file as read back at start-up.
#[derive(Debug)]
pub(crate) struct JournalRead {
    #[cfg(test)]
    pub generation: u64,
    pub first_seq: u64,
    /// Whole entries in file order.
    pub entries: Vec<(u64, Change)>,
    /// Meta records in file order, each with the sequence number of the change after it.
    pub meta: Vec<(u64, Meta)>,
    /// Bytes of whole records; anything after is damage.
    pub good_len: u64,
    pub file_len: u64,
    pub damage: Option<Damage>,
}

/// A meta record as read back (see [`ChangeRec::Time`], [`ChangeRec::Users`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    Time(u64),
    Users(Vec<String>),
    /// Who sends the changes from here on (`None`: the server).
    Sender(Option<String>),
}

/// Why a journal file cannot be used at all (its header is unreadable).
#[derive(Debug)]
pub(crate) enum JournalError {
    Io(io::Error),
    BadHeader(String),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Io(e) => write!(f, "cannot read: {e}"),
            JournalError::BadHeader(why) => write!(f, "bad header: {why}"),
        }
    }
}

/// Reads a journal file. Entries stop at the first damaged or undecodable record; the caller
/// decides whether that is a torn tail to truncate.
pub(crate) fn read(path: &Path) -> Result<JournalRead, JournalError> {
    let buf = super::snapshot::read_state_file(path).map_err(JournalError::Io)?;
    let mut recs = Records::new(&buf);
    let first = recs.next().ok_or_else(|| {
        JournalError::BadHeader(match recs.damage() {
            Some(d) => d.to_string(),
            None => "empty file".into(),
        })
    })?;
    let header: JournalHeader =
        postcard::from_bytes(first).map_err(|e| JournalError::BadHeader(e.to_string()))?;
    let known = header.version == FORMAT_VERSION || header.version == JOURNAL_VERSION;
    if header.magic != JOURNAL_MAGIC || !known {
        return Err(JournalError::BadHeader(format!(
            "magic {:?} version {}",
            header.magic, header.version
        )));
    }
    let mut entries = Vec::new();
    let mut meta = Vec::new();
    let mut good_len = recs.good_len();
    let mut damage = None;
    for payload in recs.by_ref() {
        match postcard::from_bytes::<Entry>(payload) {
            Ok(e) => match (e.change.to_change(), e.change) {
                (Some(c), _) => entries.push((e.seq, c)),
                (None, ChangeRec::Time { unix_ms }) => meta.push((e.seq, Meta::Time(unix_ms))),
                (None, ChangeRec::Sender { name }) => {
                    meta.push((e.seq, Meta::Sender(name.map(str::to_string))))
                }
                (None, ChangeRec::Users { names }) => meta.push((
                    e.seq,
                    Meta::Users(names.into_iter().map(str::to_string).collect()),
                )),
                (None, _) => {}
            },
            Err(_) => {
                // A record with a valid checksum but an unknown shape: treat it like damage.
                damage = Some(Damage::BadChecksum { offset: good_len });
                break;
            }
        }
        good_len += record::HEADER_LEN + payload.len();
    }
    if damage.is_none() {
        damage = recs.damage().cloned();
    }
    Ok(JournalRead {
        #[cfg(test)]
        generation: header.generation,
        first_seq: header.first_seq,
        entries,
        meta,
        good_len: good_len as u64,
        file_len: buf.len() as u64,
        damage,
    })
}

/// Cuts a journal back to its whole records (after a crash mid-append) and makes it durable.
pub(crate) fn truncate(path: &Path, good_len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(good_len)?;
    f.sync_all()
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
