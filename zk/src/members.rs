//! Group membership naming, as Mesos's `zookeeper::Group` (src/zookeeper/group.cpp L744-761)
//! and leader detector (src/zookeeper/detector.cpp L143-149): members are
//! `<label>_<sequence>` children of the group path; children without a numeric `_<sequence>`
//! suffix (such as `log_replicas`) are skipped; the leader is the member with the lowest
//! sequence across all labels.

/// The label Mesos masters use for their `MasterInfo` JSON members.
pub const MASTER_LABEL: &str = "json.info";

/// One member znode's name, split into label and sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberName {
    /// Full child name, e.g. `json.info_0000000003`.
    pub name: String,
    /// The label before the last `_`, e.g. `json.info`.
    pub label: String,
    /// The sequence number ZooKeeper appended.
    pub sequence: i64,
}

impl MemberName {
    /// Parses a child name; `None` for children that are not group members.
    pub fn parse(name: &str) -> Option<MemberName> {
        let (label, sequence) = name.rsplit_once('_')?;
        if sequence.is_empty() || !sequence.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(MemberName {
            name: name.to_string(),
            label: label.to_string(),
            sequence: sequence.parse().ok()?,
        })
    }
}

/// The member with the lowest sequence among `children`, if any.
pub fn lowest_member<S: AsRef<str>>(children: &[S]) -> Option<MemberName> {
    children
        .iter()
        .filter_map(|c| MemberName::parse(c.as_ref()))
        .min_by_key(|m| m.sequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_sequence_wins_across_labels_and_skips_non_members() {
        let children = [
            "json.info_0000000012",
            "log_replicas",
            "info_0000000011",
            "json.info_0000000002",
            "junk_",
            "x_12a",
        ];
        let leader = lowest_member(&children).unwrap();
        assert_eq!(leader.name, "json.info_0000000002");
        assert_eq!(leader.label, MASTER_LABEL);
        assert_eq!(leader.sequence, 2);
        assert!(lowest_member(&["log_replicas"]).is_none());
        assert!(lowest_member::<&str>(&[]).is_none());
    }
}
