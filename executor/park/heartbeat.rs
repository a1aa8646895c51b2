// The agent's HEARTBEAT event as it arrives on the SUBSCRIBE stream: one HTTP chunk (size
// 0x17) holding one RecordIO record. Shared by the park program (which consumes these) and
// the executor (whose tests check it against the API's encoder). Plain item, no module doc:
// it is `include!`d.
/// One HEARTBEAT event, chunk framing included.
pub const HEARTBEAT_CHUNK: &[u8] = b"17\r\n20\n{\"type\":\"HEARTBEAT\"}\r\n";
