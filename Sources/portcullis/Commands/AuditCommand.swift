import ArgumentParser
import Foundation
import PortcullisCore

/// `portcullis audit verify` and `portcullis audit export` (SPEC §7).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify or export the hash-chained audit log.",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the chain. Exit 0 when intact, 1 when an entry was edited, deleted or reordered."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "audit verify")) { _, store in try await verify(store) }
        }

        func verify(_ store: any AuditStore) async throws {
            let result = try await store.verifyAuditLog()
            if result.isIntact {
                let head = try await store.auditLog().last?.hash ?? AuditEntry.genesisHash
                Console.out("OK: \(result.entries) \(result.entries == 1 ? "entry" : "entries"), chain intact, head \(head)")
                return
            }
            Console.error("TAMPERED: \(result.problem ?? "the chain is broken")" + (result.brokenAt.map { " (at entry \($0))" } ?? ""))
            throw ExitCode(1)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every entry as a JSON line, oldest first, exactly as hashed.",
            discussion: """
                The SHA-256 of each line (without its newline) is the next line's previous_hash, and the last \
                line's is the head that `audit verify` prints: an export can be checked offline.
                """
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let lines = try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "audit export")) { _, store in
                try await store.exportAuditLog()
            }
            var output = Data()
            for line in lines {
                output.append(Data(line.utf8))
                output.append(UInt8(ascii: "\n"))
                if output.count > 65_536 {
                    FileHandle.standardOutput.write(output)
                    output.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(output)
        }
    }
}
