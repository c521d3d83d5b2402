//! PostgreSQL's binary `COPY` format, both ways: [`CopyRows`] encodes rows for
//! `COPY … FROM STDIN (FORMAT binary)` and [`CopyReader`] decodes what
//! `COPY (SELECT …) TO STDOUT (FORMAT binary)` sends. The format is the server's own
//! (<https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>): a signature,
//! then per row a 16-bit field count and per field a 32-bit length (−1: NULL) and the
//! value in the type's binary form, big-endian; a count of −1 ends the data.
//!
//! Why: the text format makes the server parse each date and time of the 106,000 analytics
//! rows of a 1,000-store day, and sqlx's row protocol decodes the 231,000 raw rows one
//! message at a time; both cost more than the bytes themselves (see BENCHMARKS, session 7).

use chrono::NaiveDate;

use super::WarehouseError;

/// The 11-byte signature, the flags (no OIDs) and an empty header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// PostgreSQL's date zero: binary dates count days from it.
fn pg_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// Rows in binary `COPY` form, written field by field (the caller writes each row's
/// fields in the table's column order, with the column's exact type).
pub(crate) struct CopyRows {
    buf: Vec<u8>,
}

impl CopyRows {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes.max(HEADER.len()));
        buf.extend_from_slice(HEADER);
        CopyRows { buf }
    }

    /// Starts a row of `fields` fields.
    pub(crate) fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buf
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    /// A `SMALLINT`.
    pub(crate) fn int2(&mut self, v: i16) {
        self.field(&v.to_be_bytes());
    }

    /// An `INTEGER`.
    pub(crate) fn int4(&mut self, v: i32) {
        self.field(&v.to_be_bytes());
    }

    /// A `BIGINT`.
    pub(crate) fn int8(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    /// A `DATE` (days since 2000-01-01).
    pub(crate) fn date(&mut self, d: NaiveDate) {
        let days = (d - pg_epoch()).num_days() as i32;
        self.int4(days);
    }

    /// A `TIME` of a whole hour (microseconds since midnight).
    pub(crate) fn hour_time(&mut self, hour: u32) {
        self.int8(i64::from(hour) * 3_600_000_000);
    }

    /// A `BOOLEAN`.
    pub(crate) fn bool(&mut self, b: bool) {
        self.field(&[u8::from(b)]);
    }

    /// Bytes written so far (the caller sends them in pieces).
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Hands over the bytes written so far, keeping the capacity for the next piece.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let capacity = self.buf.capacity();
        std::mem::replace(&mut self.buf, Vec::with_capacity(capacity))
    }

    /// The last piece: what is left and the end marker.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

/// A field of a row [`CopyReader`] decoded: its bytes, or `None` for NULL.
pub(crate) type Field<'a> = Option<&'a [u8]>;

/// The widest row [`CopyReader`] decodes.
const MAX_WIDTH: usize = 16;

/// Decodes binary `COPY … TO STDOUT` data as it arrives, in pieces cut anywhere.
pub(crate) struct CopyReader {
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

fn malformed(what: &str) -> WarehouseError {
    WarehouseError::Data(format!(
        "binary COPY data from PostgreSQL is malformed: {what}"
    ))
}

impl CopyReader {
    pub(crate) fn new() -> Self {
        CopyReader {
            pending: Vec::new(),
            header_read: false,
            ended: false,
        }
    }

    /// Takes one piece of data and calls `row` with the fields of every row it completes.
    /// Rows must have `width` fields.
    pub(crate) fn feed(
        &mut self,
        piece: &[u8],
        width: usize,
        mut row: impl FnMut(&[Field<'_>]) -> Result<(), WarehouseError>,
    ) -> Result<(), WarehouseError> {
        if width > MAX_WIDTH {
            return Err(malformed("too many columns"));
        }
        self.pending.extend_from_slice(piece);
        let mut at = 0;
        if !self.header_read {
            if self.pending.len() < HEADER.len() {
                return Ok(());
            }
            if self.pending[..11] != HEADER[..11] {
                return Err(malformed("no PGCOPY signature"));
            }
            let ext = i32::from_be_bytes(read4(&self.pending[15..19]));
            let skip = HEADER.len() + usize::try_from(ext).map_err(|_| malformed("header"))?;
            if self.pending.len() < skip {
                return Ok(());
            }
            at = skip;
            self.header_read = true;
        }
        let mut fields: [Field<'_>; MAX_WIDTH] = [None; MAX_WIDTH];
        let data = &self.pending;
        loop {
            if self.ended {
                if at < data.len() {
                    return Err(malformed("data after the end marker"));
                }
                break;
            }
            let Some(count) = data.get(at..at + 2) else {
                break;
            };
            let count = i16::from_be_bytes([count[0], count[1]]);
            if count == -1 {
                self.ended = true;
                at += 2;
                continue;
            }
            if usize::try_from(count).ok() != Some(width) {
                return Err(malformed("unexpected field count"));
            }
            // Parse the whole row before consuming it: a row cut by the piece waits.
            let mut cursor = at + 2;
            let mut complete = true;
            for field in fields.iter_mut().take(width) {
                let Some(len) = data.get(cursor..cursor + 4) else {
                    complete = false;
                    break;
                };
                let len = i32::from_be_bytes(read4(len));
                cursor += 4;
                if len < 0 {
                    *field = None;
                    continue;
                }
                let end = cursor + len as usize;
                let Some(value) = data.get(cursor..end) else {
                    complete = false;
                    break;
                };
                *field = Some(value);
                cursor = end;
            }
            if !complete {
                break;
            }
            row(&fields[..width])?;
            at = cursor;
        }
        self.pending.drain(..at);
        Ok(())
    }

    /// Checks that the data ended with its end marker.
    pub(crate) fn finish(self) -> Result<(), WarehouseError> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(malformed("the data stopped before its end marker"))
        }
    }
}

/// Runs `select` as `COPY (select) TO STDOUT (FORMAT binary)` on a connection of `pool`
/// and decodes each row of `width` fields with `decode`, as the data arrives.
pub(crate) async fn copy_out<T>(
    pool: &sqlx::PgPool,
    select: &str,
    width: usize,
    mut decode: impl FnMut(&[Field<'_>]) -> Result<T, WarehouseError>,
) -> Result<Vec<T>, WarehouseError> {
    use futures::StreamExt as _;
    use sqlx::postgres::PgPoolCopyExt as _;
    let mut stream = pool
        .copy_out_raw(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .await?;
    let mut reader = CopyReader::new();
    let mut rows = Vec::new();
    while let Some(piece) = stream.next().await {
        reader.feed(&piece?, width, |f| {
            rows.push(decode(f)?);
            Ok(())
        })?;
    }
    reader.finish()?;
    Ok(rows)
}

/// `text` as an SQL string literal (COPY takes no bound parameters).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn read4(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

/// A fixed-width field's bytes (`None` for NULL), checked to be `N` bytes long.
fn fixed<const N: usize>(f: Field<'_>, what: &str) -> Result<Option<[u8; N]>, WarehouseError> {
    f.map(|b| <[u8; N]>::try_from(b).map_err(|_| malformed(&format!("{what} is not {N} bytes"))))
        .transpose()
}

fn not_null<T>(v: Option<T>) -> Result<T, WarehouseError> {
    v.ok_or_else(|| malformed("NULL in a non-null column"))
}

/// A `BIGINT` field's value (NULL is an error: the caller asked for a non-null column).
pub(crate) fn int8(f: Field<'_>) -> Result<i64, WarehouseError> {
    not_null(nullable_int8(f)?)
}

/// An `INTEGER` field's value (NULL is an error).
pub(crate) fn int4(f: Field<'_>) -> Result<i32, WarehouseError> {
    not_null(fixed(f, "an INTEGER")?.map(i32::from_be_bytes))
}

/// A nullable `BIGINT` field's value.
pub(crate) fn nullable_int8(f: Field<'_>) -> Result<Option<i64>, WarehouseError> {
    Ok(fixed(f, "a BIGINT")?.map(i64::from_be_bytes))
}

/// A `DOUBLE PRECISION` field's value.
pub(crate) fn nullable_float8(f: Field<'_>) -> Result<Option<f64>, WarehouseError> {
    Ok(fixed(f, "a DOUBLE PRECISION")?.map(f64::from_be_bytes))
}

/// A `TEXT` field's value (the server sends text in the client encoding, UTF-8 under sqlx).
pub(crate) fn text(f: Field<'_>) -> Result<String, WarehouseError> {
    not_null(nullable_text(f)?)
}

/// A nullable `TEXT` field's value.
pub(crate) fn nullable_text(f: Field<'_>) -> Result<Option<String>, WarehouseError> {
    f.map(|b| {
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| malformed("a TEXT is not UTF-8"))
    })
    .transpose()
}

/// The time of day a binary `TIME` holds, as an hour if it is a whole one (tests).
#[cfg(test)]
fn hour_of(micros: i64) -> Option<u32> {
    use chrono::Timelike as _;
    let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt((micros / 1_000_000) as u32, 0)?;
    (t.minute() == 0 && t.second() == 0).then_some(t.hour())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_read_back_across_any_cut() {
        // Encoded with the writer, decoded by the reader fed in pieces of every size.
        let mut w = CopyRows::with_capacity(0);
        for (i, name) in ["a", "", "élan"].iter().enumerate() {
            w.row(4);
            w.int8(i as i64 - 1);
            w.field(name.as_bytes());
            w.buf.extend_from_slice(&(-1i32).to_be_bytes());
            w.int8(i64::MAX - i as i64);
        }
        let bytes = w.finish();
        for cut in 1..=bytes.len() {
            let mut r = CopyReader::new();
            let mut got = Vec::new();
            for piece in bytes.chunks(cut) {
                r.feed(piece, 4, |f| {
                    got.push((
                        int8(f[0])?,
                        text(f[1])?,
                        nullable_text(f[2])?,
                        nullable_int8(f[3])?,
                    ));
                    Ok(())
                })
                .expect("feed");
            }
            r.finish().expect("ended");
            assert_eq!(
                got,
                vec![
                    (-1, "a".into(), None, Some(i64::MAX)),
                    (0, String::new(), None, Some(i64::MAX - 1)),
                    (1, "élan".into(), None, Some(i64::MAX - 2)),
                ],
                "pieces of {cut} bytes"
            );
        }
    }

    #[test]
    fn dates_and_hours_use_the_servers_epochs() {
        let mut w = CopyRows::with_capacity(0);
        w.date(NaiveDate::from_ymd_opt(2024, 3, 13).expect("date"));
        w.hour_time(19);
        let b = &w.buf[HEADER.len()..];
        // 2000-01-01 → 2024-03-13 is 8,838 days.
        assert_eq!(b[..4], 4i32.to_be_bytes());
        assert_eq!(i32::from_be_bytes(read4(&b[4..8])), 8838);
        let micros = i64::from_be_bytes(b[12..20].try_into().expect("8 bytes"));
        assert_eq!(hour_of(micros), Some(19));
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let mut w = CopyRows::with_capacity(0);
        w.row(1);
        w.int8(7);
        let bytes = w.finish();
        let mut r = CopyReader::new();
        r.feed(&bytes[..bytes.len() - 3], 1, |_| Ok(()))
            .expect("feed");
        assert!(r.finish().is_err());
        let mut r = CopyReader::new();
        assert!(r
            .feed(b"NOTCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 1, |_| Ok(()))
            .is_err());
    }
}
