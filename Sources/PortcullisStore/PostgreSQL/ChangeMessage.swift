import Foundation
import PortcullisCore

/// The wire form of a change, kept under NOTIFY's 8,000-byte payload limit.
struct ChangeMessage: Codable {
    var kind: String
    var sessions: [String]?
    var users: [String]?
    /// Added by the database as it sends the message: its clock, seconds since 1970.
    var at: Double?

    init(_ change: StoreChange) {
        switch change {
        case .sessionsRevoked(let sessions, let users):
            kind = "sessions"
            // Past ~100 hashes, name the users only: receivers then drop every cached identity.
            self.sessions = sessions.count <= 100 ? sessions.map(\.hex) : nil
            self.users = users.count <= 100 ? users : nil
        case .sessionsChanged(let sessions):
            // Receivers from before this kind resynchronise: they drop everything, which is safe.
            kind = "sessions_changed"
            self.sessions = sessions.count <= 100 ? sessions.map(\.hex) : nil
        case .policyChanged: kind = "policy"
        case .networkChanged: kind = "network"
        case .resynchronize: kind = "resynchronize"
        }
    }

    var encoded: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"kind\":\"resynchronize\"}"
    }

    /// The JSON object without its final `}`, for the database to append `"at"` to.
    var encodedWithoutClosingBrace: String {
        let text = encoded
        return text.hasSuffix("}") ? String(text.dropLast()) : "{\"kind\":\"resynchronize\""
    }

    /// The change and, when the message carries it, the database's time of sending. A message
    /// that cannot be read asks for a resynchronisation.
    static func announced(_ payload: String) -> AnnouncedChange {
        guard let message = try? JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8)) else {
            return AnnouncedChange(.resynchronize)
        }
        return AnnouncedChange(message.change, committedAt: message.at.map { Date(timeIntervalSince1970: $0) })
    }

    var change: StoreChange {
        switch kind {
        case "sessions":
            guard let sessions, let users else { return .resynchronize }
            return .sessionsRevoked(sessions: sessions.compactMap(SessionIDHash.init(hex:)), users: users)
        case "sessions_changed":
            guard let sessions else { return .resynchronize }
            return .sessionsChanged(sessions: sessions.compactMap(SessionIDHash.init(hex:)))
        case "policy": return .policyChanged
        case "network": return .networkChanged
        default: return .resynchronize
        }
    }
}
