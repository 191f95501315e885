import Foundation
import GRDB
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-\(UUID().uuidString)/store.sqlite").path
    }

    @Test("passes the store conformance suite")
    func conformance() async throws {
        try await StoreConformance.run { try SQLiteStore(path: Self.temporaryPath()) }
    }

    @Test("data survives reopening the file")
    func survivesRestart() async throws {
        let path = Self.temporaryPath()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.recordLogin(LoginProfile(subject: "s", email: "a@example.com", groups: ["G"]), at: t0)
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.user(email: "a@example.com")?.subject == "s")
        #expect(try await reopened.userIdentity(subject: "s")?.groups.map(\.name) == ["G"])
    }

    @Test("the database runs in WAL mode with full synchronous writes")
    func durabilitySettings() async throws {
        let store = try SQLiteStore(path: Self.temporaryPath())
        let mode = try await store.readPragma("journal_mode")
        let synchronous = try await store.readPragma("synchronous")
        #expect(mode == "wal")
        #expect(synchronous == "2")
    }
}
