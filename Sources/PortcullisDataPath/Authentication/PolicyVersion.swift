import Synchronization

/// A counter bumped whenever something that feeds access decisions changes in the store: a
/// role, a group mapping or membership, a default member permission, a flag, a token. Cached
/// identities remember the version they were read at and are read again once it moves, so a
/// change applies to the very next request. Other instances bump it when the change reaches
/// them by broadcast.
package final class PolicyVersion: Sendable {
    private let value = Atomic<UInt64>(0)

    package init() {}

    package var current: UInt64 { value.load(ordering: .acquiring) }

    package func bump() {
        value.add(1, ordering: .releasing)
    }
}
