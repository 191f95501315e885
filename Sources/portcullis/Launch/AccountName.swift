#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The account name of a uid, from the password database (`getpwuid_r`).
enum AccountName {
    /// `nil` when the uid has no entry (a container's bare uid) or the name is empty.
    static func of(uid: uid_t) -> String? {
        var buffer = [CChar](repeating: 0, count: 4_096)
        // The name points into the buffer: read it while the buffer is held.
        return buffer.withUnsafeMutableBufferPointer { storage -> String? in
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            guard let base = storage.baseAddress, getpwuid_r(uid, &entry, base, storage.count, &found) == 0, found != nil,
                  let name = entry.pw_name
            else { return nil }
            let text = String(cString: name)
            return text.isEmpty ? nil : text
        }
    }
}
