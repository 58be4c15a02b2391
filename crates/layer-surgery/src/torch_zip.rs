//! The zip layout `torch.save` has written since PyTorch 1.6: `<name>/data.pkl`
//! (the pickled object), `<name>/data/<key>` (one raw little-endian storage per
//! key), `<name>/byteorder` and `<name>/version`. Entries are stored
//! uncompressed with their data aligned to 64 bytes.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::error::{Error, Result};
use crate::format::ReadOptions;
use crate::pickle::{self, Origin, StorageRef, StorageSource};
use crate::value::Value;

/// Alignment of entry data, as PyTorch's `PyTorchStreamWriter` writes it.
const ALIGNMENT: u16 = 64;
/// Extra-field id PyTorch uses for its alignment padding (the bytes `FB`).
const PADDING_HEADER_ID: u16 = u16::from_le_bytes(*b"FB");
/// Serialization version that PyTorch 2.x writes to `<name>/version`.
const FORMAT_VERSION: &[u8] = b"3\n";

/// Reads a zip-format `torch.save` file.
pub(crate) fn read<R: Read + Seek>(
    mut reader: R,
    origin: &str,
    budget: usize,
    options: &ReadOptions,
) -> Result<Value> {
    let file_len = reader
        .seek(SeekFrom::End(0))
        .and_then(|len| reader.seek(SeekFrom::Start(0)).map(|_| len))
        .map_err(|source| zip_error(origin, zip::result::ZipError::Io(source)))?;
    // `torch.save` writes the archive from the first byte. Searching for the
    // archive start instead, the zip crate's default, can mistake tensor bytes
    // for a central-directory header and reject a valid file.
    let config = zip::read::Config {
        archive_offset: zip::read::ArchiveOffset::Known(0),
    };
    let mut archive =
        ZipArchive::with_config(config, reader).map_err(|source| zip_error(origin, source))?;
    let prefix = archive_prefix(&archive, origin)?;

    let pickle_name = format!("{prefix}/data.pkl");
    let pickle_bytes = read_entry(&mut archive, &pickle_name, None, file_len, origin)?;
    let big_endian = match read_optional(
        &mut archive,
        &format!("{prefix}/byteorder"),
        file_len,
        origin,
    )? {
        None => false,
        Some(order) if order == b"little" => false,
        Some(order) if order == b"big" => true,
        Some(order) => {
            return Err(Error::invalid_file(
                origin,
                format!(
                    "byteorder entry is {:?}, expected \"little\" or \"big\"",
                    order
                ),
            ));
        }
    };

    let unpickled =
        pickle::unpickle_with(&pickle_bytes, 0, options).map_err(|source| Error::Pickle {
            origin: origin.to_owned(),
            part: pickle_name.clone(),
            source,
        })?;
    let mut storages = ZipStorages {
        archive,
        prefix,
        file_len,
        big_endian,
        origin,
        cache: HashMap::new(),
    };
    let origin = Origin {
        file: origin,
        part: &pickle_name,
    };
    pickle::to_value(&unpickled, &mut storages, budget, &origin)
}

/// Writes `value` as a zip-format `torch.save` file whose top folder is `archive_name`.
pub(crate) fn write<W: Write + Seek>(
    writer: W,
    value: &Value,
    archive_name: &str,
    origin: &str,
) -> Result<W> {
    let pickled = pickle::pickle(value)?;
    let mut zip = ZipWriter::new(writer);
    let mut add = |name: String, data: &[u8]| -> Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(DateTime::default())
            .with_alignment_and_header_id(ALIGNMENT, PADDING_HEADER_ID)
            .large_file(data.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name, options)
            .map_err(|source| zip_error(origin, source))?;
        zip.write_all(data)
            .map_err(|source| zip_error(origin, zip::result::ZipError::Io(source)))
    };

    add(format!("{archive_name}/data.pkl"), &pickled.bytes)?;
    add(format!("{archive_name}/byteorder"), b"little")?;
    for (key, tensor) in pickled.storages.iter().enumerate() {
        add(format!("{archive_name}/data/{key}"), tensor.data())?;
    }
    add(format!("{archive_name}/version"), FORMAT_VERSION)?;
    zip.finish().map_err(|source| zip_error(origin, source))
}

fn zip_error(origin: &str, source: zip::result::ZipError) -> Error {
    Error::Zip {
        origin: origin.to_owned(),
        source,
    }
}

/// Finds `<prefix>` of the single `<prefix>/data.pkl` entry. The prefix is the
/// saved file's name without extension, or `archive`.
fn archive_prefix<R: Read + Seek>(archive: &ZipArchive<R>, origin: &str) -> Result<String> {
    let mut prefixes = Vec::new();
    for name in archive.file_names() {
        let name = name.map_err(|source| zip_error(origin, source))?;
        if let Some(prefix) = name.strip_suffix("/data.pkl")
            && !prefix.is_empty()
            && !prefix.contains('/')
        {
            prefixes.push(prefix.to_owned());
        }
    }
    match prefixes.len() {
        1 => Ok(prefixes.remove(0)),
        0 => Err(Error::invalid_file(
            origin,
            "zip archive has no `<name>/data.pkl` entry, so it is not a torch.save file",
        )),
        _ => Err(Error::invalid_file(
            origin,
            format!(
                "zip archive has several pickles: {}",
                prefixes.join("/data.pkl, ")
            ),
        )),
    }
}

/// Reads a stored entry whole. Its declared size is checked against `expected`
/// (when given) and the archive length before anything is allocated.
fn read_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
    expected: Option<usize>,
    file_len: u64,
    origin: &str,
) -> Result<Vec<u8>> {
    let mut entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(Error::invalid_file(
                origin,
                format!("entry `{name}` is missing"),
            ));
        }
        Err(source) => return Err(zip_error(origin, source)),
    };
    if entry.compression() != CompressionMethod::Stored {
        return Err(Error::unsupported(
            origin,
            format!(
                "entry `{name}` is compressed ({}); torch.save stores entries uncompressed, \
                 so re-save the file with torch.save",
                entry.compression()
            ),
        ));
    }
    let size = entry.size();
    if size > file_len {
        return Err(Error::invalid_file(
            origin,
            format!("entry `{name}` declares {size} bytes but the file has only {file_len}"),
        ));
    }
    if let Some(expected) = expected
        && size != expected as u64
    {
        return Err(Error::invalid_file(
            origin,
            format!("entry `{name}` holds {size} bytes, expected {expected} from the pickle"),
        ));
    }
    let mut data = Vec::with_capacity(size as usize);
    entry.read_to_end(&mut data).map_err(|source| {
        Error::invalid_file(origin, format!("entry `{name}` is corrupt: {source}"))
    })?;
    if data.len() as u64 != size {
        return Err(Error::invalid_file(
            origin,
            format!("entry `{name}` ends after {} of {size} bytes", data.len()),
        ));
    }
    Ok(data)
}

fn read_optional<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
    file_len: u64,
    origin: &str,
) -> Result<Option<Vec<u8>>> {
    if archive.index_for_name(name).is_none() {
        return Ok(None);
    }
    read_entry(archive, name, None, file_len, origin).map(Some)
}

/// Loads `<prefix>/data/<key>` entries on first use.
struct ZipStorages<'a, R> {
    archive: ZipArchive<R>,
    prefix: String,
    file_len: u64,
    big_endian: bool,
    origin: &'a str,
    cache: HashMap<String, Vec<u8>>,
}

impl<R: Read + Seek> StorageSource for ZipStorages<'_, R> {
    fn load(&mut self, storage: &StorageRef) -> Result<&[u8]> {
        if !self.cache.contains_key(&storage.key) {
            let name = format!("{}/data/{}", self.prefix, storage.key);
            let mut data = read_entry(
                &mut self.archive,
                &name,
                Some(storage.byte_len()),
                self.file_len,
                self.origin,
            )?;
            if self.big_endian {
                swap_byte_order(&mut data, storage.dtype.size());
            }
            self.cache.insert(storage.key.clone(), data);
        }
        Ok(self.cache.get(&storage.key).map_or(&[], Vec::as_slice))
    }
}

/// Reverses the bytes of every element, converting big-endian data to little-endian.
pub(crate) fn swap_byte_order(data: &mut [u8], element_size: usize) {
    if element_size > 1 {
        for element in data.chunks_exact_mut(element_size) {
            element.reverse();
        }
    }
}
