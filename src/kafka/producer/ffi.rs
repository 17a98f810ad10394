//! librdkafka's own handles, owned: a topic handle, a record's headers, the client's queue.

use std::ffi::CStr;

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};

use super::context::{DeliveryContext, Report};

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

/// The client's main queue, where librdkafka puts delivery reports, statistics and errors.
///
/// Served here rather than through the Rust client's poll: that one allocates an array of
/// the event's records and an `Arc` for every delivery event, and takes a reference per record.
/// An event holds a whole batch (hundreds of records), so the array is a large allocation, and
/// on a thread that frees librdkafka's many small blocks glibc answers a large request by
/// sweeping its free lists first (`malloc_consolidate`: 3-4 % of the sending thread).
pub(super) struct MainQueue(*mut rdkafka_sys::rd_kafka_queue_t);

// SAFETY: librdkafka's queues may be used from any thread.
unsafe impl Send for MainQueue {}

impl MainQueue {
    pub(super) fn new(producer: &BaseProducer<DeliveryContext>) -> MainQueue {
        // SAFETY: a live client; the queue is a new reference, released when dropped.
        MainQueue(unsafe { rdkafka_sys::rd_kafka_queue_get_main(producer.client().native_ptr()) })
    }

    /// Serves the next event, waiting up to `timeout_ms` for one; false when none came.
    pub(super) fn serve_one(&self, context: &DeliveryContext, timeout_ms: i32) -> bool {
        use rdkafka_sys::{
            RD_KAFKA_EVENT_DR, RD_KAFKA_EVENT_ERROR, RD_KAFKA_EVENT_LOG, RD_KAFKA_EVENT_STATS,
        };
        /// Destroys the event however serving it ends.
        struct Event(*mut rdkafka_sys::rd_kafka_event_t);
        impl Drop for Event {
            fn drop(&mut self) {
                // SAFETY: an event from rd_kafka_queue_poll, destroyed once.
                unsafe { rdkafka_sys::rd_kafka_event_destroy(self.0) };
            }
        }
        // SAFETY: a live queue; the event is ours until `Event` drops, and every message and
        // string read from it is used before that.
        unsafe {
            let event = rdkafka_sys::rd_kafka_queue_poll(self.0, timeout_ms);
            if event.is_null() {
                return false;
            }
            let _destroy = Event(event);
            match rdkafka_sys::rd_kafka_event_type(event) {
                RD_KAFKA_EVENT_DR => context.report_event(|| {
                    let m = rdkafka_sys::rd_kafka_event_message_next(event).as_ref()?;
                    let key = (!m.key.is_null())
                        .then(|| std::slice::from_raw_parts(m.key.cast::<u8>(), m.key_len));
                    let error = (m.err
                        != rdkafka_sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR)
                        .then(|| KafkaError::MessageProduction(m.err.into()));
                    Some(Report {
                        seq: m._private as usize as u64,
                        partition: m.partition,
                        offset: m.offset,
                        key,
                        bytes: m.len,
                        error,
                    })
                }),
                RD_KAFKA_EVENT_STATS => {
                    let json = rdkafka_sys::rd_kafka_event_stats(event);
                    if !json.is_null() {
                        context.stats_raw(CStr::from_ptr(json).to_bytes());
                    }
                }
                RD_KAFKA_EVENT_ERROR => {
                    let code = rdkafka_sys::rd_kafka_event_error(event);
                    let reason = rdkafka_sys::rd_kafka_event_error_string(event);
                    let reason = if reason.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(reason).to_string_lossy().into_owned()
                    };
                    context.error(KafkaError::Global(code.into()), reason.trim());
                }
                // librdkafka's log (`-X debug=...`), to the `log` crate as rdkafka's poll does.
                RD_KAFKA_EVENT_LOG => {
                    let (mut fac, mut text, mut level) = (std::ptr::null(), std::ptr::null(), 0);
                    if rdkafka_sys::rd_kafka_event_log(
                        event,
                        &raw mut fac,
                        &raw mut text,
                        &raw mut level,
                    ) == 0
                    {
                        let read = |p: *const std::ffi::c_char| {
                            if p.is_null() {
                                String::new()
                            } else {
                                CStr::from_ptr(p).to_string_lossy().into_owned()
                            }
                        };
                        context.log(log_level(level), &read(fac), &read(text));
                    }
                }
                // Nothing else that comes here needs an answer.
                _ => {}
            }
            true
        }
    }
}

impl Drop for MainQueue {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `new`, released once, before the client.
        unsafe { rdkafka_sys::rd_kafka_queue_destroy(self.0) };
    }
}

/// librdkafka's syslog level as rdkafka names it.
fn log_level(level: std::ffi::c_int) -> rdkafka::config::RDKafkaLogLevel {
    use rdkafka::config::RDKafkaLogLevel as L;
    match level {
        ..=0 => L::Emerg,
        1 => L::Alert,
        2 => L::Critical,
        3 => L::Error,
        4 => L::Warning,
        5 => L::Notice,
        6 => L::Info,
        _ => L::Debug,
    }
}
