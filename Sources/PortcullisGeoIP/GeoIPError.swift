/// A GeoIP database that cannot be used, with the file and libmaxminddb's reason.
public struct GeoIPError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case fileMissing = "file_missing"
        case cannotOpen = "cannot_open"
        case corrupt
    }

    public let code: Code
    public let path: String
    public let reason: String

    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch code {
        case .fileMissing: "GeoIP database \(path) does not exist"
        case .cannotOpen: "GeoIP database \(path) cannot be opened: \(reason)"
        case .corrupt: "GeoIP database \(path) is not a valid MaxMind database: \(reason)"
        }
    }
}
