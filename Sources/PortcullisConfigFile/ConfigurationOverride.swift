/// A value to put at a key path of a configuration file, replacing whatever is there: how
/// `portcullis dev` turns `conf/portcullis.yaml` into the file it runs on (its own store, no
/// HSTS) without a second copy of the configuration.
public struct ConfigurationOverride: Sendable {
    public indirect enum Value: Sendable {
        case scalar(String)
        case mapping([(key: String, value: Value)])
    }

    /// `["server", "tls", "hsts_max_age"]`; mappings on the way are made when missing.
    public let keyPath: [String]
    public let value: Value

    public init(_ keyPath: [String], _ value: Value) {
        self.keyPath = keyPath
        self.value = value
    }
}
