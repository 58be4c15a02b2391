//! Feeds arbitrary bytes to the checkpoint reader, which detects the format
//! (torch.save zip, legacy torch.save or safetensors) from the content. Any
//! input must give a value or an error, never a panic, hang or huge allocation.
//! A value that is read must also survive writing it back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mixformer_layer_surgery::{pth_bytes, read_value_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok((_, value)) = read_value_bytes(data) {
        let written = pth_bytes(&value).expect("a value that was read can be written");
        let (_, again) = read_value_bytes(&written).expect("a written value can be read");
        // Compared as written bytes, so that NaN floats compare by their bits.
        let rewritten = pth_bytes(&again).expect("a value that was read can be written");
        assert_eq!(rewritten, written);
    }
});
