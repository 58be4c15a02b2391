//! Picking a backend and device by name, shared by the binaries and benchmarks.
//!
//! | name | backend | needs |
//! |---|---|---|
//! | `flex` | burn's pure-Rust CPU backend | nothing |
//! | `libtorch` | libtorch on the CPU | the `tch` feature |
//! | `cuda:N` | libtorch on GPU `N` | the `tch` feature, a CUDA libtorch and `N` below the GPU count |
//! | `cpu` | `libtorch` with the `tch` feature, `flex` without | |

use burn::tensor::Device;

use crate::ModelError;

/// Returns the device names [`device_from_name`] accepts in this build.
pub fn device_names() -> &'static str {
    if cfg!(feature = "tch") {
        "cpu, flex, libtorch or cuda:N"
    } else {
        "cpu or flex (libtorch and cuda:N need the tch feature)"
    }
}

/// Returns the device `name` names (see the module docs), without autodiff.
pub fn device_from_name(name: &str) -> Result<Device, ModelError> {
    let unknown = || ModelError::UnknownDevice {
        origin: String::new(),
        name: name.to_string(),
        accepted: device_names(),
    };
    match name {
        "flex" => Ok(Device::flex()),
        "cpu" => Ok(default_cpu_device()),
        _ => libtorch_device(name).ok_or_else(unknown),
    }
}

/// Environment variable the benchmarks read the device name from.
pub const DEVICE_VARIABLE: &str = "MIXFORMER_DEVICE";

/// Returns the device named by `MIXFORMER_DEVICE` (default `cpu`) and its name.
pub fn device_from_env() -> Result<(String, Device), ModelError> {
    let name = std::env::var(DEVICE_VARIABLE).unwrap_or_else(|_| "cpu".to_string());
    let device = device_from_name(&name).map_err(|error| match error {
        ModelError::UnknownDevice { name, accepted, .. } => ModelError::UnknownDevice {
            origin: format!("{DEVICE_VARIABLE}: "),
            name,
            accepted,
        },
        other => other,
    })?;
    Ok((name, device))
}

/// Returns the fastest CPU device of this build: libtorch with the `tch` feature, flex otherwise.
// burn 0.22 marks burn-tch deprecated and 0.23 removes it, so the workspace pins 0.22.
#[allow(deprecated)]
pub fn default_cpu_device() -> Device {
    #[cfg(feature = "tch")]
    {
        Device::libtorch()
    }
    #[cfg(not(feature = "tch"))]
    {
        Device::flex()
    }
}

/// Returns the libtorch device of `libtorch` or `cuda:N` with the `tch` feature, else `None`.
#[allow(deprecated)]
fn libtorch_device(name: &str) -> Option<Device> {
    #[cfg(feature = "tch")]
    {
        if name == "libtorch" {
            return Some(Device::libtorch());
        }
        let index = name.strip_prefix("cuda:")?.parse::<usize>().ok()?;
        // An index past the GPUs libtorch finds would fail inside libtorch later.
        let gpus = Device::enumerate(burn::tensor::DeviceType::LibTorch).len();
        (index < gpus).then(|| Device::libtorch_cuda(index))
    }
    #[cfg(not(feature = "tch"))]
    {
        let _ = name;
        None
    }
}

/// Returns a short description of the backend behind `name`, for benchmark and log headers.
pub fn backend_label(name: &str) -> &'static str {
    match name {
        "flex" => "flex (pure-Rust CPU)",
        "libtorch" => "libtorch (CPU)",
        "cpu" if cfg!(feature = "tch") => "libtorch (CPU)",
        "cpu" => "flex (pure-Rust CPU)",
        _ if name.starts_with("cuda:") => "libtorch (CUDA)",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_and_cpu_are_always_available() {
        assert!(device_from_name("flex").is_ok());
        assert!(device_from_name("cpu").is_ok());
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let error = device_from_name("tpu")
            .expect_err("no such device")
            .to_string();
        assert!(error.starts_with("unknown device \"tpu\""), "{error}");
        assert!(error.contains("flex"), "{error}");
        assert!(device_from_name("cuda:x").is_err());
    }

    #[cfg(not(feature = "tch"))]
    #[test]
    fn libtorch_needs_the_tch_feature() {
        let error = device_from_name("libtorch")
            .expect_err("no tch")
            .to_string();
        assert!(error.contains("tch feature"), "{error}");
    }
}
