//! Reading and writing checkpoint files: format detection and the public entry points.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Write};
use std::path::Path;

use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::foreign::describe_classes;
use crate::state_dict::StateDict;
use crate::value::Value;
use crate::{safetensors_io, torch_legacy, torch_zip};

/// Output allowed on top of the per-byte allowance, so that small files with a
/// few expanded (stride-0) tensors still load.
const BUDGET_BASE: usize = 16 << 20;
/// Output bytes allowed per input byte. A checkpoint's values take about as much
/// memory as its file, and the factor leaves room for shared and overlapping views.
const BUDGET_PER_INPUT_BYTE: usize = 8;

/// Options of the checkpoint readers. The default is the strict reader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Reads objects of classes outside the tensor allow-list, such as the
    /// `settings` object and `AverageMeter` statistics that the reference
    /// trainers pickle, as inert [`Value::Object`] placeholders instead of
    /// rejecting the file. Nothing is imported or executed either way, and
    /// globals that run code (`os.system`, `builtins.eval`, `subprocess.Popen`)
    /// are still rejected.
    pub allow_foreign_objects: bool,
}

impl ReadOptions {
    /// Options that accept only what tensor files need.
    pub fn strict() -> Self {
        ReadOptions::default()
    }

    /// Options that read foreign objects as placeholders.
    pub fn allowing_foreign_objects() -> Self {
        ReadOptions {
            allow_foreign_objects: true,
        }
    }
}

/// A checkpoint file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// `torch.save` since PyTorch 1.6: a zip archive.
    TorchZip,
    /// `torch.save` before 1.6 or with `_use_new_zipfile_serialization=False`.
    TorchLegacy,
    Safetensors,
}

impl fmt::Display for FileFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            FileFormat::TorchZip => "torch.save (zip)",
            FileFormat::TorchLegacy => "torch.save (legacy, before PyTorch 1.6)",
            FileFormat::Safetensors => "safetensors",
        })
    }
}

impl FileFormat {
    /// Recognises a format from the first bytes of a file (at least 16 for certainty).
    pub fn detect(head: &[u8]) -> Option<FileFormat> {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            return Some(FileFormat::TorchZip);
        }
        if torch_legacy::looks_legacy(head) {
            return Some(FileFormat::TorchLegacy);
        }
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if head.len() > 8 && head[8] == b'{' {
            return Some(FileFormat::Safetensors);
        }
        None
    }

    /// Chooses the format by file name: `.safetensors`, else `torch.save` zip.
    pub fn from_extension(path: &Path) -> FileFormat {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("safetensors") => FileFormat::Safetensors,
            _ => FileFormat::TorchZip,
        }
    }
}

fn budget(input_len: u64) -> usize {
    usize::try_from(input_len)
        .unwrap_or(usize::MAX)
        .saturating_mul(BUDGET_PER_INPUT_BYTE)
        .saturating_add(BUDGET_BASE)
}

/// Reads a checkpoint of any supported format into a value tree. A safetensors
/// file becomes an `OrderedDict` of its tensors.
pub fn read_value(path: &Path) -> Result<(FileFormat, Value)> {
    read_value_with(path, &ReadOptions::strict())
}

/// Reads a checkpoint as [`read_value`] does, with `options`. When foreign
/// objects were read, a warning lists their classes.
pub fn read_value_with(path: &Path, options: &ReadOptions) -> Result<(FileFormat, Value)> {
    let origin = path.display().to_string();
    let (format, value) = read_file(path, &origin, options)?;
    warn_about_foreign_objects(&value, &origin);
    Ok((format, value))
}

fn read_file(path: &Path, origin: &str, options: &ReadOptions) -> Result<(FileFormat, Value)> {
    let file = File::open(path).map_err(|source| Error::io("open", path, source))?;
    let file_len = file
        .metadata()
        .map_err(|source| Error::io("read", path, source))?
        .len();
    let mut head = [0u8; 512];
    let head_len = read_head(&file, &mut head).map_err(|source| Error::io("read", path, source))?;
    let format = detect_or_explain(&head[..head_len], origin)?;
    let value = match format {
        // The zip reader seeks through the file and loads each storage once.
        FileFormat::TorchZip => {
            let reader = BufReader::new(file);
            torch_zip::read(reader, origin, budget(file_len), options)?
        }
        FileFormat::TorchLegacy | FileFormat::Safetensors => {
            let data = std::fs::read(path).map_err(|source| Error::io("read", path, source))?;
            return read_value_bytes_from(&data, origin, options);
        }
    };
    Ok((format, value))
}

/// Reads a checkpoint held in memory, as [`read_value`] reads a file.
pub fn read_value_bytes(data: &[u8]) -> Result<(FileFormat, Value)> {
    read_value_bytes_from(data, "<memory>", &ReadOptions::strict())
}

/// Reads a checkpoint held in memory, as [`read_value_with`] reads a file.
pub fn read_value_bytes_with(data: &[u8], options: &ReadOptions) -> Result<(FileFormat, Value)> {
    let (format, value) = read_value_bytes_from(data, "<memory>", options)?;
    warn_about_foreign_objects(&value, "<memory>");
    Ok((format, value))
}

fn read_value_bytes_from(
    data: &[u8],
    origin: &str,
    options: &ReadOptions,
) -> Result<(FileFormat, Value)> {
    let format = detect_or_explain(data, origin)?;
    let budget = budget(data.len() as u64);
    let value = match format {
        FileFormat::TorchZip => torch_zip::read(Cursor::new(data), origin, budget, options)?,
        FileFormat::TorchLegacy => torch_legacy::read(data, origin, budget, options)?,
        FileFormat::Safetensors => safetensors_io::read(data, origin)?.to_value(),
    };
    Ok((format, value))
}

fn warn_about_foreign_objects(value: &Value, origin: &str) {
    let classes = value.foreign_classes();
    if classes.is_empty() {
        return;
    }
    tracing::warn!(
        file = %origin,
        objects = classes.values().sum::<usize>(),
        classes = %describe_classes(&classes),
        "read objects of foreign classes as placeholders; they carry data only"
    );
}

fn read_head(mut file: &File, head: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            count => filled += count,
        }
    }
    Ok(filled)
}

fn detect_or_explain(head: &[u8], origin: &str) -> Result<FileFormat> {
    if let Some(format) = FileFormat::detect(head) {
        return Ok(format);
    }
    // tar archives carry "ustar" at byte 257.
    if head.get(257..262) == Some(b"ustar") {
        return Err(Error::unsupported(
            origin,
            "tar-format checkpoints (PyTorch before 0.4) are not read; load and re-save the \
             file with a recent torch.save",
        ));
    }
    if head.first() == Some(&0x80) {
        return Err(Error::invalid_file(
            origin,
            "the file is a pickle but not a torch.save file (it does not start with \
             PyTorch's magic number)",
        ));
    }
    Err(Error::invalid_file(
        origin,
        "unknown format: expected a torch.save file (zip or legacy) or safetensors",
    ))
}

/// Writes `value` as a zip-format `torch.save` file, atomically. The archive's
/// top folder is named after the file, as `torch.save` does.
pub fn write_pth(path: &Path, value: &Value) -> Result<()> {
    let origin = path.display().to_string();
    let name = archive_name(path);
    write_atomically(path, |writer| {
        torch_zip::write(writer, value, &name, &origin).map(|_| ())
    })
}

/// Serialises `value` as a zip-format `torch.save` file in memory, with the
/// top folder `archive` (what `torch.save` uses for an in-memory buffer).
pub fn pth_bytes(value: &Value) -> Result<Vec<u8>> {
    let cursor = torch_zip::write(Cursor::new(Vec::new()), value, "archive", "<memory>")?;
    Ok(cursor.into_inner())
}

/// Reads the tensors of a safetensors file, in the order of their data.
pub fn read_safetensors(path: &Path) -> Result<StateDict> {
    let data = std::fs::read(path).map_err(|source| Error::io("read", path, source))?;
    safetensors_io::read(&data, &path.display().to_string())
}

/// Writes the weights of `state_dict` as a safetensors file, atomically.
pub fn write_safetensors(path: &Path, state_dict: &StateDict) -> Result<()> {
    let bytes = safetensors_io::to_bytes(state_dict)?;
    write_atomically(path, |writer| {
        writer
            .write_all(&bytes)
            .map_err(|source| Error::io("write", path, source))
    })
}

/// Serialises the weights of `state_dict` as safetensors in memory.
pub fn safetensors_bytes(state_dict: &StateDict) -> Result<Vec<u8>> {
    safetensors_io::to_bytes(state_dict)
}

/// Returns the file name without its last extension, as PyTorch names the zip's top folder.
fn archive_name(path: &Path) -> String {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty() && !stem.contains(['/', '\\']))
        .unwrap_or("archive")
        .to_owned()
}
