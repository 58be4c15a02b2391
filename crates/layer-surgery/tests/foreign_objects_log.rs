//! The warning a lenient read logs. It runs in its own test binary because
//! tracing caches per call site whether a subscriber is interested, and tests
//! that read without a subscriber on other threads would race with it.

use std::io::Write;
use std::path::Path;

use mixformer_layer_surgery::{ReadOptions, read_weights_with};

/// Collects formatted log output for one test.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn lenient_read_logs_foreign_classes() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/foreign_objects.pth.tar");
        read_weights_with(&path, &ReadOptions::allowing_foreign_objects()).unwrap();
    });
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("WARN"), "{log}");
    assert!(
        lines[0].contains("read objects of foreign classes as placeholders"),
        "{log}"
    );
    assert!(lines[0].contains("objects=17"), "{log}");
    // Eight of the ten classes are named, and the rest are counted.
    assert!(lines[0].contains("argparse.Namespace (1)"), "{log}");
    assert!(lines[0].contains("and 2 more classes"), "{log}");
    assert!(!lines[0].contains("torch.device"), "{log}");
}
