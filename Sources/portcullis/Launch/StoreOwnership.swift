import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The command line works on an SQLite store as the account the store belongs to. Opening it
/// makes files beside it (`-wal`, `-shm`, and the store itself on a new host) owned by whoever
/// runs the command: run as root against the service user's store, they are root's, and the
/// gateway can no longer write its own store. So a command run as another account is refused
/// before anything is opened, with the command to run instead.
enum StoreOwnership {
    struct Refusal: Error, Sendable {
        /// Who the store (or the folder it would be made in) belongs to: a name, or `#uid`.
        let owner: String
        let problem: String

        /// `sudo -u portcullis portcullis sessions revoke grace@example.com --config …`.
        func command(_ arguments: [String]) -> String {
            (["sudo", "-u", owner, "portcullis"] + arguments).map(StoreOwnership.quoted).joined(separator: " ")
        }
    }

    /// Why the process running as `uid` must not open the SQLite store at `path`; `nil` when
    /// it may. An existing store must be the process's own. A store not made yet may be made
    /// unless the folder it would be made in belongs to another account (other than root):
    /// that folder is the service's, and so must be the file.
    static func refusal(forSQLiteAt path: String, runningAs uid: uid_t) -> Refusal? {
        let me = AccountName.of(uid: uid) ?? "uid \(uid)"
        if let owner = owner(of: path) {
            guard owner != uid else { return nil }
            let name = Self.name(owner)
            return Refusal(
                owner: name,
                problem: """
                    the store \(path) belongs to \(name), and this command runs as \(me): it would make files beside it \
                    (\(path)-wal, \(path)-shm) that \(name) cannot write, and the gateway would fail on its own store
                    """
            )
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var folder = (absolute as NSString).deletingLastPathComponent
        while !folder.isEmpty {
            if let owner = owner(of: folder) {
                guard owner != uid, owner != 0 else { return nil }
                let name = Self.name(owner)
                return Refusal(
                    owner: name,
                    problem: """
                        the store \(path) does not exist yet and its folder \(folder) belongs to \(name); made by this command, \
                        which runs as \(me), it would be \(me)'s, and the gateway running as \(name) could not write it
                        """
                )
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder { break }
            folder = parent
        }
        return nil
    }

    /// The owner's uid of an existing file or folder (following symbolic links, as SQLite does).
    static func owner(of path: String) -> uid_t? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let owner = (try? FileManager.default.attributesOfItem(atPath: target))?[.ownerAccountID] as? NSNumber else { return nil }
        return uid_t(truncatingIfNeeded: owner.uint64Value)
    }

    static func name(_ uid: uid_t) -> String {
        AccountName.of(uid: uid) ?? "#\(uid)"
    }

    /// A word for a shell: as is when it is plain, else in single quotes.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "@%+=:,./-_".unicodeScalars.contains($0))
        }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
