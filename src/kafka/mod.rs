//! Everything that talks to Kafka. Nothing in here knows about the screen.

pub mod cluster;
pub mod consumer;
pub mod control;
pub mod embedded;
pub mod local;
pub mod partitioners;
pub mod processor;
pub mod producer;
pub mod rewind;
pub mod settings;
pub mod statistics;
pub mod verify;

/// `librdkafka 2.12.1 (features: gzip, snappy, ssl, ...)`: the client library linked in and
/// what it was built with, as it reports them.
pub fn library() -> String {
    let (_, version) = rdkafka::util::get_rdkafka_version();
    format!("librdkafka {version} (features: {})", builtin_features())
}

fn builtin_features() -> String {
    use rdkafka::bindings as rd;
    let mut buf = vec![0u8; 1024];
    let mut size = buf.len();
    // SAFETY: a fresh configuration, read into a buffer of `size` bytes, then destroyed.
    let ok = unsafe {
        let conf = rd::rd_kafka_conf_new();
        let res = rd::rd_kafka_conf_get(
            conf,
            c"builtin.features".as_ptr(),
            buf.as_mut_ptr().cast(),
            &raw mut size,
        );
        rd::rd_kafka_conf_destroy(conf);
        res == rd::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK
    };
    if !ok {
        return "unknown".to_string();
    }
    let text = std::ffi::CStr::from_bytes_until_nul(&buf)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    text.replace(',', ", ")
}
