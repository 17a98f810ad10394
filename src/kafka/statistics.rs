//! The few figures kafka-lab reads of librdkafka's statistics, parsed from its JSON without
//! building the rest. A client's statistics list every partition it knows (at a thousand
//! partitions, hundreds of kilobytes each time); the full `rdkafka::Statistics` turns all of
//! it into maps and strings only to be dropped, where skipping it costs a scan.

use std::collections::HashMap;

use serde::Deserialize;

/// What the producer's and the consumer's contexts read: per broker, the requests sent by
/// type, retries and the stage latencies; per topic, the batch size and count windows.
#[derive(Debug, Default, Deserialize)]
pub struct Brief {
    #[serde(default)]
    pub brokers: HashMap<String, Broker>,
    #[serde(default)]
    pub topics: HashMap<String, Topic>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Broker {
    #[serde(default)]
    pub req: HashMap<String, i64>,
    #[serde(default)]
    pub txretries: u64,
    pub int_latency: Option<Window>,
    pub outbuf_latency: Option<Window>,
    pub rtt: Option<Window>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Topic {
    pub batchsize: Window,
    pub batchcnt: Window,
}

/// A rolling window of librdkafka's: the fields kafka-lab uses.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct Window {
    pub sum: i64,
    pub cnt: i64,
    pub p50: i64,
    pub p99: i64,
}

impl Brief {
    /// The statistics JSON as librdkafka hands it over; None if it does not parse (logged
    /// once: the figures it feeds then stay unknown).
    pub fn parse(json: &[u8]) -> Option<Brief> {
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        match serde_json::from_slice(json) {
            Ok(brief) => Some(brief),
            Err(e) => {
                if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    log::warn!("librdkafka's statistics did not parse: {e}");
                }
                None
            }
        }
    }

    /// Requests of `kind` (`Produce`, `Fetch`, ...) sent to every broker so far.
    pub fn requests(&self, kind: &str) -> i64 {
        self.brokers.values().filter_map(|b| b.req.get(kind)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What librdkafka's statistics carry, trimmed: the full parse and the brief one agree.
    const SAMPLE: &str = r#"{
      "name": "rdkafka#producer-1", "client_id": "rdkafka", "type": "producer", "ts": 1, "time": 1,
      "age": 1, "replyq": 0, "msg_cnt": 0, "msg_size": 0, "msg_max": 100000,
      "msg_size_max": 1073741824, "simple_cnt": 0, "metadata_cache_cnt": 1,
      "brokers": {
        "127.0.0.1:9092/1": {
          "name": "127.0.0.1:9092/1", "nodeid": 1, "nodename": "127.0.0.1:9092",
          "source": "configured", "state": "UP", "stateage": 1, "outbuf_cnt": 0,
          "outbuf_msg_cnt": 0, "waitresp_cnt": 0, "waitresp_msg_cnt": 0, "tx": 10,
          "txbytes": 100, "txerrs": 0, "txretries": 3, "txidle": 1, "req_timeouts": 0,
          "rx": 10, "rxbytes": 100, "rxerrs": 0, "rxcorriderrs": 0, "rxpartial": 0, "rxidle": 1,
          "zbuf_grow": 0, "buf_grow": 0, "wakeups": 1, "connects": 1, "disconnects": 0,
          "int_latency": {"min": 1, "max": 9, "avg": 5, "sum": 50, "cnt": 10, "stddev": 1,
            "hdrsize": 1, "p50": 5, "p75": 6, "p90": 7, "p95": 8, "p99": 9, "p99_99": 9,
            "outofrange": 0},
          "rtt": {"min": 1, "max": 9, "avg": 5, "sum": 70, "cnt": 7, "stddev": 1,
            "hdrsize": 1, "p50": 4, "p75": 6, "p90": 7, "p95": 8, "p99": 8, "p99_99": 9,
            "outofrange": 0},
          "req": {"Produce": 7, "Fetch": 0, "Metadata": 2},
          "toppars": {"t-0": {"topic": "t", "partition": 0}}
        }
      },
      "topics": {
        "t": {
          "topic": "t", "age": 1, "metadata_age": 1,
          "batchsize": {"min": 1, "max": 9, "avg": 5, "sum": 3000, "cnt": 7, "stddev": 1,
            "hdrsize": 1, "p50": 400, "p75": 6, "p90": 7, "p95": 8, "p99": 900, "p99_99": 9,
            "outofrange": 0},
          "batchcnt": {"min": 1, "max": 9, "avg": 5, "sum": 30, "cnt": 7, "stddev": 1,
            "hdrsize": 1, "p50": 4, "p75": 6, "p90": 7, "p95": 8, "p99": 9, "p99_99": 9,
            "outofrange": 0},
          "partitions": {"0": {"partition": 0, "broker": 1, "leader": 1, "desired": false,
            "unknown": false, "msgq_cnt": 0, "msgq_bytes": 0, "xmit_msgq_cnt": 0,
            "xmit_msgq_bytes": 0, "fetchq_cnt": 0, "fetchq_size": 0, "fetch_state": "none",
            "query_offset": 0, "next_offset": 0, "app_offset": -1001, "stored_offset": -1001,
            "committed_offset": -1001, "eof_offset": -1001, "lo_offset": -1, "hi_offset": -1,
            "ls_offset": -1, "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 30,
            "txbytes": 3000, "rxmsgs": 0, "rxbytes": 0, "msgs": 30, "rx_ver_drops": 0,
            "msgs_inflight": 0, "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0}}
        }
      },
      "tx": 10, "tx_bytes": 100, "rx": 10, "rx_bytes": 100, "txmsgs": 30, "txmsg_bytes": 3000,
      "rxmsgs": 0, "rxmsg_bytes": 0
    }"#;

    #[test]
    fn the_brief_parse_reads_what_the_full_one_does() {
        let full: rdkafka::Statistics = serde_json::from_str(SAMPLE).unwrap();
        let brief = Brief::parse(SAMPLE.as_bytes()).unwrap();
        let b = &brief.brokers["127.0.0.1:9092/1"];
        let f = &full.brokers["127.0.0.1:9092/1"];
        assert_eq!(brief.requests("Produce"), 7);
        assert_eq!(brief.requests("Fetch"), 0);
        assert_eq!(brief.requests("Produce"), f.req["Produce"]);
        assert_eq!(b.txretries, f.txretries);
        let (bi, fi) = (b.int_latency.unwrap(), f.int_latency.as_ref().unwrap());
        assert_eq!(
            (bi.sum, bi.cnt, bi.p50, bi.p99),
            (fi.sum, fi.cnt, fi.p50, fi.p99)
        );
        assert!(b.outbuf_latency.is_none() && f.outbuf_latency.is_none());
        assert_eq!(b.rtt.unwrap().p99, f.rtt.as_ref().unwrap().p99);
        let (bt, ft) = (&brief.topics["t"], &full.topics["t"]);
        assert_eq!(
            (
                bt.batchsize.sum,
                bt.batchsize.p99,
                bt.batchcnt.sum,
                bt.batchcnt.cnt
            ),
            (
                ft.batchsize.sum,
                ft.batchsize.p99,
                ft.batchcnt.sum,
                ft.batchcnt.cnt
            )
        );
        assert!(Brief::parse(b"not json").is_none());
    }
}
