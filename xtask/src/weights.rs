//! `cargo xtask weights`: inspects, converts and edits checkpoint weights.

use std::path::{Path, PathBuf};

use mixformer_layer_surgery::surgery::{compare, remove_layers};
use mixformer_layer_surgery::{
    DictKey, FileFormat, ReadOptions, StateDict, Value, WeightsLocation, find_weights,
    read_value_with, read_weights_with, write_pth, write_safetensors,
};

/// Options of `cargo xtask weights`.
#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    #[command(subcommand)]
    pub command: WeightsCommand,
}

/// How checkpoints are read, shared by every `weights` subcommand.
#[derive(Debug, clap::Args)]
pub struct ReadFlags {
    /// Read objects of classes outside the tensor allow-list (the `settings`
    /// object and `AverageMeter` statistics of published reference checkpoints)
    /// as inert placeholders. Nothing is imported or run, and globals that run
    /// code are still rejected. Written files leave the placeholders out.
    #[arg(long)]
    pub allow_foreign_objects: bool,
}

impl ReadFlags {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            allow_foreign_objects: self.allow_foreign_objects,
        }
    }
}

/// The `weights` subcommands. Files ending in `.safetensors` are safetensors, and
/// any other name (`.pth`, `.pth.tar`, `.pt`) is a `torch.save` file.
#[derive(Debug, clap::Subcommand)]
pub enum WeightsCommand {
    /// Print a checkpoint's top-level entries and every tensor's name, dtype and shape.
    Inspect {
        /// Checkpoint to read (torch.save zip or legacy, or safetensors).
        file: PathBuf,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Convert between torch.save and safetensors, chosen by the output extension.
    /// Safetensors output keeps the weights alone. Safetensors to torch.save puts
    /// them under `net`, and torch.save to torch.save keeps every entry.
    Convert {
        input: PathBuf,
        output: PathBuf,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Remove transformer blocks, renumber the remaining ones densely and drop
    /// the fixed positional tables (the surgery between layer removal and fine-tuning).
    RemoveLayers {
        input: PathBuf,
        output: PathBuf,
        /// Block indices to remove, separated by commas (`INVALID_LAYERS`), e.g. 0,3,6,9.
        #[arg(long, value_delimiter = ',', required = true)]
        layers: Vec<usize>,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Compare the weights of two checkpoints and fail when they differ.
    Diff {
        expected: PathBuf,
        found: PathBuf,
        /// Largest absolute difference per value still counted as equal.
        #[arg(long, default_value_t = 0.0)]
        tolerance: f64,
        #[command(flatten)]
        read: ReadFlags,
    },
}

/// Runs one `weights` subcommand.
pub fn run(args: &WeightsArgs) -> Result<(), String> {
    match &args.command {
        WeightsCommand::Inspect { file, read } => inspect(file, &read.options()),
        WeightsCommand::Convert {
            input,
            output,
            read,
        } => convert(input, output, &read.options()),
        WeightsCommand::RemoveLayers {
            input,
            output,
            layers,
            read,
        } => remove(input, output, layers, &read.options()),
        WeightsCommand::Diff {
            expected,
            found,
            tolerance,
            read,
        } => diff(expected, found, *tolerance, &read.options()),
    }
}

fn inspect(file: &Path, options: &ReadOptions) -> Result<(), String> {
    let (format, value) = read_value_with(file, options).map_err(|error| error.to_string())?;
    println!("{}: {format}", file.display());
    if let Some(dict) = value.as_dict() {
        println!("top-level entries:");
        for (key, item) in dict.iter() {
            println!("  {}: {}", key_text(key), summary(item));
        }
    }
    let classes = value.foreign_classes();
    if !classes.is_empty() {
        println!("foreign objects read as placeholders:");
        for (class, count) in &classes {
            println!("  {class}: {count}");
        }
    }
    let (location, state_dict) =
        find_weights(&value, &file.display().to_string()).map_err(|error| error.to_string())?;
    println!(
        "weights at {location}: {} tensors, {} parameters",
        state_dict.len(),
        state_dict.parameter_count()
    );
    let width = state_dict.names().map(str::len).max().unwrap_or(0);
    for (name, tensor) in state_dict.iter() {
        println!(
            "  {name:width$}  {:8}  {:?}",
            tensor.dtype().name(),
            tensor.shape()
        );
    }
    Ok(())
}

fn convert(input: &Path, output: &Path, options: &ReadOptions) -> Result<(), String> {
    let (input_format, value) =
        read_value_with(input, options).map_err(|error| error.to_string())?;
    match FileFormat::from_extension(output) {
        FileFormat::Safetensors => {
            let (location, state_dict) = find_weights(&value, &input.display().to_string())
                .map_err(|error| error.to_string())?;
            write_safetensors(output, &state_dict).map_err(|error| error.to_string())?;
            println!(
                "wrote {} tensors from {location} of {} to {}",
                state_dict.len(),
                input.display(),
                output.display()
            );
        }
        _ => {
            let value = match input_format {
                FileFormat::Safetensors => {
                    Value::Dict(mixformer_layer_surgery::Dict::new().with("net", value))
                }
                FileFormat::TorchZip | FileFormat::TorchLegacy => without_foreign_objects(value),
            };
            write_pth(output, &value).map_err(|error| error.to_string())?;
            println!(
                "wrote {} as torch.save to {}",
                input.display(),
                output.display()
            );
        }
    }
    Ok(())
}

fn remove(
    input: &Path,
    output: &Path,
    layers: &[usize],
    options: &ReadOptions,
) -> Result<(), String> {
    let origin = input.display().to_string();
    let (_, value) = read_value_with(input, options).map_err(|error| error.to_string())?;
    let (location, state_dict) =
        find_weights(&value, &origin).map_err(|error| error.to_string())?;
    let (pruned, report) = remove_layers(&state_dict, layers).map_err(|error| error.to_string())?;

    match FileFormat::from_extension(output) {
        FileFormat::Safetensors => write_safetensors(output, &pruned),
        _ => {
            let value = without_foreign_objects(value);
            write_pth(output, &replace_weights(value, location, &pruned))
        }
    }
    .map_err(|error| error.to_string())?;

    println!(
        "removed layers {layers:?} from {}: {report}",
        input.display()
    );
    for (old, new) in &report.renamed {
        println!("  {old} -> {new}");
    }
    println!("wrote {}", output.display());
    Ok(())
}

/// Replaces the weights of a checkpoint and clears its optimiser state, whose
/// per-parameter entries no longer match the parameters.
fn replace_weights(value: Value, location: WeightsLocation, weights: &StateDict) -> Value {
    let key = match location {
        WeightsLocation::Net => "net",
        WeightsLocation::Model => "model",
        WeightsLocation::TopLevel => return weights.to_value(),
    };
    let Value::Dict(mut dict) = value else {
        return weights.to_value();
    };
    dict.insert(key, weights.to_value());
    if dict
        .get("optimizer")
        .is_some_and(|optimizer| *optimizer != Value::None)
    {
        println!("cleared `optimizer`: its state no longer matches the parameters");
        dict.insert("optimizer", Value::None);
    }
    Value::Dict(dict)
}

/// Drops the foreign objects, which cannot be written, and prints each one.
fn without_foreign_objects(mut value: Value) -> Value {
    for (path, class) in value.remove_foreign_objects() {
        let place = if path.is_empty() {
            "the top-level value".to_owned()
        } else {
            format!("`{path}`")
        };
        println!("dropped {place}: a placeholder of {class}, which is not written");
    }
    value
}

fn diff(
    expected: &Path,
    found: &Path,
    tolerance: f64,
    options: &ReadOptions,
) -> Result<(), String> {
    let expected_weights =
        read_weights_with(expected, options).map_err(|error| error.to_string())?;
    let found_weights = read_weights_with(found, options).map_err(|error| error.to_string())?;
    let diff = compare(&expected_weights.state_dict, &found_weights.state_dict);

    for name in &diff.missing {
        println!("only in {}: {name}", expected.display());
    }
    for name in &diff.unexpected {
        println!("only in {}: {name}", found.display());
    }
    for mismatch in &diff.shape_mismatches {
        println!("shape differs: {mismatch}");
    }
    for (name, expected_dtype, found_dtype) in &diff.dtype_mismatches {
        println!("dtype differs: `{name}`: {expected_dtype} vs {found_dtype}");
    }
    let differing: Vec<&(String, f64)> = diff
        .max_abs_diff
        .iter()
        .filter(|(_, difference)| *difference > tolerance || difference.is_nan())
        .collect();
    for (name, difference) in &differing {
        println!("values differ: `{name}`: max abs difference {difference:e}");
    }
    println!(
        "{} tensors compared, {} differ by more than {tolerance:e}",
        diff.max_abs_diff.len(),
        differing.len()
    );
    if diff.is_within(tolerance) {
        Ok(())
    } else {
        Err(format!(
            "{} and {} differ",
            expected.display(),
            found.display()
        ))
    }
}

fn key_text(key: &DictKey) -> String {
    match key {
        DictKey::Str(text) => text.clone(),
        DictKey::Int(number) => number.to_string(),
    }
}

/// Describes a value in one line: its type and size or, for scalars, the value.
fn summary(value: &Value) -> String {
    match value {
        Value::None => "None".into(),
        Value::Bool(flag) => format!("bool {flag}"),
        Value::Int(number) => format!("int {number}"),
        Value::Float(number) => format!("float {number}"),
        Value::Str(text) if text.len() <= 60 => format!("str {text:?}"),
        Value::Str(text) => format!("str of {} bytes", text.len()),
        Value::Bytes(bytes) => format!("bytes of length {}", bytes.len()),
        Value::List(items) => format!("list of {} items", items.len()),
        Value::Tuple(items) => format!("tuple of {} items", items.len()),
        Value::Dict(dict) => format!("{} of {} entries", value.type_name(), dict.len()),
        Value::Tensor(tensor) => format!("tensor {} {:?}", tensor.dtype(), tensor.shape()),
        Value::Object(object) => format!("placeholder of {}", object.qualified_name()),
    }
}
