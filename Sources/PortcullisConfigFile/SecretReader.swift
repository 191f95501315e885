import Foundation
import PortcullisCore

/// Reads a secret from its file or environment variable. Surrounding whitespace (a trailing
/// newline from `echo`) is removed; an empty secret is an error.
public enum SecretReader {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let source: SecretSource
        public let reason: String
        public var description: String { "\(source): \(reason)" }
    }

    public static func read(_ source: SecretSource) throws(Failure) -> String {
        let raw: String
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Failure(source: source, reason: "cannot be read")
            }
            guard data.count <= 65_536, let text = String(data: data, encoding: .utf8) else {
                throw Failure(source: source, reason: "is not a short UTF-8 text")
            }
            raw = text
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw Failure(source: source, reason: "is not set")
            }
            raw = value
        }
        let secret = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw Failure(source: source, reason: "is empty") }
        return secret
    }
}
