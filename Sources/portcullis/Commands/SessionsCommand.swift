import ArgumentParser
import Foundation
import PortcullisCore

/// `portcullis sessions list EMAIL` and `portcullis sessions revoke EMAIL`: the teammates page's
/// sessions, from the host.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List or revoke a user's sessions.",
        subcommands: [List.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's active sessions: start, address, place, device, suspicious-session flags.")

        @Argument(help: "The user's email.")
        var email: String

        @Flag(help: "Print a JSON array of sessions ([] when there is none).")
        var json = false

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "sessions list")) { configuration, store in
                try await list(configuration, store)
            }
        }

        func list(_ configuration: GatewayConfiguration, _ store: any SessionStore & SessionRiskStore & UserLookupStore) async throws {
            guard let user = try await store.user(email: email) else {
                Console.error("sessions list: no user \(email)")
                throw ExitCode(1)
            }
            let now = Date()
            let idle = configuration.sessions.idleTimeout
            let sessions = try await store.activeSessions(userID: user.id, now: now).filter { session in
                session.isActive(at: now, idleTimeout: idle) && (user.notBefore.map { session.createdAt >= $0 } ?? true)
            }
            let formatter = ISO8601DateFormatter()
            let flags = Dictionary(grouping: try await store.sessionFlags(userID: user.id), by: \.sessionIDHash)
            if json {
                // One JSON document, an array (`[]` when there is none), one session a line.
                let lines = try sessions.map { session in
                    String(decoding: try JSONEncoder.sorted.encode(Self.json(session, flags: flags[session.idHash] ?? [], formatter: formatter)), as: UTF8.self)
                }
                Console.out(lines.isEmpty ? "[]" : "[\n" + lines.joined(separator: ",\n") + "\n]")
                return
            }
            if sessions.isEmpty {
                Console.out("\(user.email) has no active sessions")
            }
            for session in sessions {
                Console.out("""
                    \(session.idHash.hex.prefix(12))  since \(formatter.string(from: session.createdAt))  \
                    last seen \(formatter.string(from: session.lastSeenAt))  \(session.lastIP) (\(session.lastLocation.summary(for: session.lastIP)))  \
                    \(session.device.browser) on \(session.device.os), \(session.device.type.rawValue)  [\(session.authMethod.rawValue)]
                    """)
                for flag in flags[session.idHash] ?? [] {
                    let state = flag.isOpen ? (flag.awaitsStepUp ? "sign-in required" : flag.action.rawValue) : "dismissed by \(flag.dismissedBy ?? "-")"
                    Console.out("    flagged \(flag.kind.rawValue): \(flag.reason)  [\(state)]")
                }
            }
        }

        static func json(_ session: SessionRecord, flags: [SessionFlag], formatter: ISO8601DateFormatter) -> [String: JSONValue] {
            let text: [String: String] = [
                "id": String(session.idHash.hex.prefix(12)), "created_at": formatter.string(from: session.createdAt),
                "last_seen_at": formatter.string(from: session.lastSeenAt), "ip": session.lastIP.description,
                "location": session.lastLocation.summary(for: session.lastIP), "browser": session.device.browser, "os": session.device.os,
                "device_type": session.device.type.rawValue, "auth_method": session.authMethod.rawValue,
            ]
            var object = text.mapValues(JSONValue.string)
            object["flags"] = .array(flags.map { flag in
                .object([
                    "id": .string(flag.id), "kind": .string(flag.kind.rawValue), "action": .string(flag.action.rawValue),
                    "reason": .string(flag.reason), "open": .bool(flag.isOpen),
                ])
            })
            object["step_up_required"] = .bool(session.stepUpRequiredAt != nil)
            return object
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a user out of every session (and bearer JWTs issued before now). Audited.",
            discussion: "A running gateway on the same store notices within a second."
        )

        @Argument(help: "The user's email.")
        var email: String

        @Flag(help: "Also revoke the user's API tokens.")
        var includeAPITokens = false

        @Option(help: "Why, for the audit log.")
        var reason = "signed out from the command line"

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "sessions revoke")) { _, store in try await revoke(store) }
        }

        func revoke(_ store: any AdministrationStore & UserLookupStore) async throws {
            guard let user = try await store.user(email: email) else {
                Console.error("sessions revoke: no user \(email)")
                throw ExitCode(1)
            }
            let audit = AuditContext(actor: StoreOpener.cliActor, actorIsSuperAdmin: false, sourceIP: nil, at: Date())
            let result = try await store.signOutEverywhere(
                userID: user.id, includeAPITokens: includeAPITokens, reason: String(reason.prefix(200)), audit: audit
            )
            let sessions = result.sessions.count == 1 ? "1 session" : "\(result.sessions.count) sessions"
            let tokens = result.tokens == 1 ? "1 API token" : "\(result.tokens) API tokens"
            Console.out("\(user.email): revoked \(sessions) and \(tokens)")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
