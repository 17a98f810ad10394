//! librdkafka's own handles, owned: a topic handle and a record's headers.

use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};

use super::context::DeliveryContext;

/// A record's headers as librdkafka holds them; destroyed when dropped unless given to a
/// record.
pub(super) struct RawHeaders(pub(super) *mut rdkafka_sys::rd_kafka_headers_t);

impl RawHeaders {
    pub(super) fn new(headers: &[(&str, &[u8])]) -> RawHeaders {
        // SAFETY: a fresh list, and names and values that live through each call (librdkafka
        // copies them).
        unsafe {
            let list = rdkafka_sys::rd_kafka_headers_new(headers.len());
            for (name, value) in headers {
                rdkafka_sys::rd_kafka_header_add(
                    list,
                    name.as_ptr().cast(),
                    name.len() as isize,
                    value.as_ptr().cast(),
                    value.len() as isize,
                );
            }
            RawHeaders(list)
        }
    }

    /// A record took the headers: librdkafka frees them with it.
    pub(super) fn given(self) {
        std::mem::forget(self);
    }
}

impl Drop for RawHeaders {
    fn drop(&mut self) {
        // SAFETY: a list made by rd_kafka_headers_new that no record took.
        unsafe { rdkafka_sys::rd_kafka_headers_destroy(self.0) };
    }
}

/// A topic handle of librdkafka's, released when dropped.
pub(super) struct TopicHandle(pub(super) *mut rdkafka_sys::rd_kafka_topic_t);

// SAFETY: librdkafka's topic handles may be used from any thread.
unsafe impl Send for TopicHandle {}

impl TopicHandle {
    pub(super) fn new(
        producer: &BaseProducer<DeliveryContext>,
        topic: &str,
    ) -> Result<TopicHandle, KafkaError> {
        let name = std::ffi::CString::new(topic)
            .map_err(|_| KafkaError::ClientCreation(format!("topic name {topic:?} holds a NUL")))?;
        // SAFETY: a live client and a NUL-terminated name; a null configuration means the
        // client's defaults.
        let rkt = unsafe {
            rdkafka_sys::rd_kafka_topic_new(
                producer.client().native_ptr(),
                name.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        if rkt.is_null() {
            return Err(KafkaError::ClientCreation(format!(
                "librdkafka refused a handle for topic {topic}"
            )));
        }
        Ok(TopicHandle(rkt))
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: made by rd_kafka_topic_new, released once; records in flight hold their own
        // references.
        unsafe { rdkafka_sys::rd_kafka_topic_destroy(self.0) };
    }
}

/// `n` in decimal, written into `buf`, without allocating (or formatting machinery: this runs
/// for every record).
pub(super) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}
