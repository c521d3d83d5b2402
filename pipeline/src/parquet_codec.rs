//! Parquet encoding of the two feeds (arrow + parquet crates). Column names and types are
//! the original's: `store_id`/`sensor_id` int64, `date`/`heure` string, `nb_visiteurs`
//! and `transactions` nullable int64, `chiffre_affaires` nullable float64.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::records::{TransactionRow, VisitorRow};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("not a readable Parquet file: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("Parquet data error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("unexpected columns: {0}")]
    Schema(String),
}

pub fn visitors_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("store_id", DataType::Int64, false),
        Field::new("sensor_id", DataType::Int64, false),
        Field::new("date", DataType::Utf8, false),
        Field::new("heure", DataType::Utf8, false),
        Field::new("nb_visiteurs", DataType::Int64, true),
    ]))
}

pub fn transactions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("store_id", DataType::Int64, false),
        Field::new("date", DataType::Utf8, false),
        Field::new("heure", DataType::Utf8, false),
        Field::new("transactions", DataType::Int64, true),
        Field::new("chiffre_affaires", DataType::Float64, true),
    ]))
}

fn write(batch: RecordBatch) -> Result<Bytes, CodecError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("datamag360".into())
        .build();
    let mut buffer = Vec::with_capacity(4096);
    let mut writer = ArrowWriter::try_new(&mut buffer, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(Bytes::from(buffer))
}

pub fn encode_visitors(rows: &[VisitorRow]) -> Result<Bytes, CodecError> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.store_id),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.sensor_id),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.date.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.heure.as_str()),
        )),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.nb_visiteurs))),
    ];
    write(RecordBatch::try_new(visitors_schema(), columns)?)
}

pub fn encode_transactions(rows: &[TransactionRow]) -> Result<Bytes, CodecError> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.store_id),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.date.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.heure.as_str()),
        )),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.transactions))),
        Arc::new(Float64Array::from_iter(
            rows.iter().map(|r| r.chiffre_affaires),
        )),
    ];
    write(RecordBatch::try_new(transactions_schema(), columns)?)
}

fn read_batches(bytes: Bytes, expected: &SchemaRef) -> Result<Vec<RecordBatch>, CodecError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    let schema = builder.schema().clone();
    for field in expected.fields() {
        let Ok(found) = schema.field_with_name(field.name()) else {
            return Err(CodecError::Schema(format!(
                "missing column {:?}",
                field.name()
            )));
        };
        let compatible = match (field.data_type(), found.data_type()) {
            (a, b) if a == b => true,
            (DataType::Utf8, DataType::LargeUtf8 | DataType::Utf8View) => true,
            (DataType::Int64, DataType::Int32 | DataType::Int16 | DataType::Int8) => true,
            (DataType::Int64 | DataType::Float64, DataType::Float64 | DataType::Float32) => true,
            _ => false,
        };
        if !compatible {
            return Err(CodecError::Schema(format!(
                "column {:?} is {} (expected {})",
                field.name(),
                found.data_type(),
                field.data_type()
            )));
        }
    }
    let reader = builder.build()?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch?);
    }
    Ok(batches)
}

fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef, CodecError> {
    let array = batch
        .column_by_name(name)
        .ok_or_else(|| CodecError::Schema(format!("missing column {name:?}")))?;
    Ok(arrow::compute::cast(array, to)?)
}

/// Column `name`, cast to `to`, read through its typed array `A` (`kind` names the
/// expected type in the error).
fn values<A: Array + 'static, T>(
    batch: &RecordBatch,
    name: &str,
    to: &DataType,
    kind: &str,
    read: impl FnOnce(&A) -> Vec<T>,
) -> Result<Vec<T>, CodecError> {
    let a = column(batch, name, to)?;
    let a = a
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| CodecError::Schema(format!("column {name:?} is not {kind}")))?;
    Ok(read(a))
}

fn ints(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, CodecError> {
    values(
        batch,
        name,
        &DataType::Int64,
        "integer",
        |a: &Int64Array| a.iter().collect(),
    )
}

fn floats(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>, CodecError> {
    values(
        batch,
        name,
        &DataType::Float64,
        "numeric",
        |a: &Float64Array| a.iter().collect(),
    )
}

fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, CodecError> {
    values(batch, name, &DataType::Utf8, "text", |a: &StringArray| {
        a.iter().map(|v| v.map(str::to_string)).collect()
    })
}

fn required<T>(v: Option<T>, name: &str, row: usize) -> Result<T, CodecError> {
    v.ok_or_else(|| CodecError::Schema(format!("row {row}: {name} is null")))
}

pub fn decode_visitors(bytes: Bytes) -> Result<Vec<VisitorRow>, CodecError> {
    let mut rows = Vec::new();
    for batch in read_batches(bytes, &visitors_schema())? {
        let store = ints(&batch, "store_id")?;
        let sensor = ints(&batch, "sensor_id")?;
        let date = strings(&batch, "date")?;
        let heure = strings(&batch, "heure")?;
        let value = ints(&batch, "nb_visiteurs")?;
        for i in 0..batch.num_rows() {
            let n = rows.len();
            rows.push(VisitorRow {
                store_id: required(store[i], "store_id", n)?,
                sensor_id: required(sensor[i], "sensor_id", n)?,
                date: required(date[i].clone(), "date", n)?,
                heure: required(heure[i].clone(), "heure", n)?,
                nb_visiteurs: value[i],
            });
        }
    }
    Ok(rows)
}

pub fn decode_transactions(bytes: Bytes) -> Result<Vec<TransactionRow>, CodecError> {
    let mut rows = Vec::new();
    for batch in read_batches(bytes, &transactions_schema())? {
        let store = ints(&batch, "store_id")?;
        let date = strings(&batch, "date")?;
        let heure = strings(&batch, "heure")?;
        let tx = ints(&batch, "transactions")?;
        let ca = floats(&batch, "chiffre_affaires")?;
        for i in 0..batch.num_rows() {
            let n = rows.len();
            rows.push(TransactionRow {
                store_id: required(store[i], "store_id", n)?,
                date: required(date[i].clone(), "date", n)?,
                heure: required(heure[i].clone(), "heure", n)?,
                transactions: tx[i],
                chiffre_affaires: ca[i],
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_nulls() {
        let rows = vec![
            VisitorRow {
                store_id: 1,
                sensor_id: 2,
                date: "2025-03-14".into(),
                heure: "10:00:00".into(),
                nb_visiteurs: Some(42),
            },
            VisitorRow {
                store_id: 1,
                sensor_id: 3,
                date: "2025-03-14".into(),
                heure: "10:00:00".into(),
                nb_visiteurs: None,
            },
        ];
        let bytes = encode_visitors(&rows).expect("encode");
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(decode_visitors(bytes).expect("decode"), rows);
        let tx = vec![TransactionRow {
            store_id: 4,
            date: "2025-03-14".into(),
            heure: "10:00:00".into(),
            transactions: Some(3),
            chiffre_affaires: Some(123.45),
        }];
        let bytes = encode_transactions(&tx).expect("encode");
        assert_eq!(decode_transactions(bytes).expect("decode"), tx);
    }

    #[test]
    fn truncated_and_foreign_files_are_refused_clearly() {
        let bytes = encode_visitors(&[]).expect("encode");
        let truncated = bytes.slice(0..bytes.len() / 2);
        let err = decode_visitors(truncated).expect_err("truncated");
        assert!(err.to_string().contains("Parquet"), "{err}");
        let err = decode_visitors(Bytes::from_static(b"store_id,date\n1,2\n")).expect_err("csv");
        assert!(err.to_string().contains("Parquet"), "{err}");
        // A Parquet file of the other feed lacks the columns.
        let other = encode_transactions(&[]).expect("encode");
        let err = decode_visitors(other).expect_err("foreign");
        assert!(err.to_string().contains("sensor_id"), "{err}");
    }
}
