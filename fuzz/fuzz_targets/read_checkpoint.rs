//! Feeds arbitrary bytes to the checkpoint reader, which detects the format
//! (torch.save zip, legacy torch.save or safetensors) from the content. The
//! first byte selects the reader: with its lowest bit set, foreign objects are
//! allowed. Any input must give a value or an error, never a panic, hang or
//! huge allocation. A value that is read must also survive writing it back,
//! after its foreign objects (which cannot be written) are removed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mixformer_layer_surgery::{ReadOptions, pth_bytes, read_value_bytes, read_value_bytes_with};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let options = ReadOptions {
        allow_foreign_objects: flags & 1 == 1,
    };
    if let Ok((_, mut value)) = read_value_bytes_with(data, &options) {
        value.remove_foreign_objects();
        assert!(value.foreign_classes().is_empty());
        let written = pth_bytes(&value).expect("a value that was read can be written");
        let (_, again) = read_value_bytes(&written).expect("a written value can be read");
        // Compared as written bytes, so that NaN floats compare by their bits.
        let rewritten = pth_bytes(&again).expect("a value that was read can be written");
        assert_eq!(rewritten, written);
    }
});
