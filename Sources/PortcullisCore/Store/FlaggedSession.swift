#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A live session with open flags, for `GET /sessions?flagged=true`.
public struct FlaggedSession: Hashable, Sendable {
    public var session: SessionRecord
    public var email: String
    public var name: String?
    /// Every flag of the session, newest first, dismissed ones included.
    public var flags: [SessionFlag]

    public init(session: SessionRecord, email: String, name: String?, flags: [SessionFlag]) {
        self.session = session
        self.email = email
        self.name = name
        self.flags = flags
    }
}
