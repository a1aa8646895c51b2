//! `mesos.v1.agent.ProcessIO`: the records of ATTACH_CONTAINER_INPUT /
//! ATTACH_CONTAINER_OUTPUT streams (RecordIO-framed, see [`crate::recordio`]).

use serde::{Deserialize, Serialize};

use crate::common::DurationInfo;
use crate::encoding::{lenient_enum, Bytes};
use crate::linux::TtyInfo;

proto_enum! {
    /// `ProcessIO.Type`.
    pub enum ProcessIoType {
        /// Unrecognised.
        Unknown = "UNKNOWN",
        /// Data on stdin/stdout/stderr.
        Data = "DATA",
        /// Control message.
        Control = "CONTROL",
    }
}

/// `mesos.v1.agent.ProcessIO`: a record of an attach stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIo {
    /// Record kind.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ProcessIoType>,
    /// For DATA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ProcessIoData>,
    /// For CONTROL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ProcessIoControl>,
}

proto_enum! {
    /// `ProcessIO.Data.Type`.
    pub enum StreamType {
        /// Unrecognised.
        Unknown = "UNKNOWN",
        /// Standard input.
        Stdin = "STDIN",
        /// Standard output.
        Stdout = "STDOUT",
        /// Standard error.
        Stderr = "STDERR",
    }
}

/// `ProcessIO.Data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIoData {
    /// Which stream.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<StreamType>,
    /// The bytes; empty data on STDIN means EOF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
}

proto_enum! {
    /// `ProcessIO.Control.Type`.
    pub enum ControlType {
        /// Unrecognised.
        Unknown = "UNKNOWN",
        /// Window size change.
        TtyInfo = "TTY_INFO",
        /// Keep-alive.
        Heartbeat = "HEARTBEAT",
    }
}

/// `ProcessIO.Control`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIoControl {
    /// Control kind.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ControlType>,
    /// For TTY_INFO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty_info: Option<TtyInfo>,
    /// For HEARTBEAT: `{"interval": DurationInfo}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<ControlHeartbeat>,
}

/// `ProcessIO.Control.Heartbeat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlHeartbeat {
    /// Heartbeat interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_io_records() {
        let data: ProcessIo =
            serde_json::from_str(r#"{"type":"DATA","data":{"type":"STDOUT","data":"aGVsbG8K"}}"#)
                .unwrap();
        let d = data.data.unwrap();
        assert_eq!(d.r#type, Some(StreamType::Stdout));
        assert_eq!(d.data.unwrap().as_slice(), b"hello\n");
        let control: ProcessIo = serde_json::from_str(
            r#"{"type":"CONTROL","control":{"type":"HEARTBEAT","heartbeat":{"interval":{"nanoseconds":30000000000}}}}"#,
        )
        .unwrap();
        assert_eq!(control.r#type, Some(ProcessIoType::Control));
    }
}
