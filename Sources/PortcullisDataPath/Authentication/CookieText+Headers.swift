import NIOHTTP1
import PortcullisCore

extension CookieText {
    /// The value of a cookie in `Cookie` headers; the first one wins.
    package static func value(of name: String, in headers: HTTPHeaders) -> String? {
        CookieHeader.value(of: name, in: headers).map(String.init)
    }
}
