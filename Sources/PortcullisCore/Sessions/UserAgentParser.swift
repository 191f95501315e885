/// Reads browser, OS and device type from a `User-Agent` string, by ordered tables of
/// markers: the first match wins. Good enough to tell a person which session is which.
public enum UserAgentParser {
    /// At most this much of a user agent is read or stored.
    public static let maximumLength = 512

    /// (marker, browser name). Order matters: Edge and Opera carry "Chrome", Chrome carries
    /// "Safari", and many carry "Mozilla".
    static let browsers: [(String, String)] = [
        ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("Edge/", "Edge"),
        ("OPR/", "Opera"), ("Opera", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"), ("YaBrowser/", "Yandex"),
        ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
        ("Version/", "Safari"), ("Safari/", "Safari"),
        ("curl/", "curl"), ("python-requests/", "Python Requests"), ("Go-http-client/", "Go"),
        ("PostmanRuntime/", "Postman"), ("okhttp/", "OkHttp"),
    ]

    static let systems: [(String, String)] = [
        ("Windows NT", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("iPod", "iOS"),
        ("Android", "Android"), ("CrOS", "ChromeOS"), ("Macintosh", "macOS"), ("Mac OS X", "macOS"),
        ("Linux", "Linux"), ("FreeBSD", "FreeBSD"),
    ]

    static let botMarkers = ["bot", "Bot", "crawler", "Crawler", "spider", "Spider", "HeadlessChrome"]

    public static func parse(_ userAgent: String?) -> DeviceInfo {
        guard let userAgent, !userAgent.isEmpty else { return .unknown }
        let text = String(userAgent.prefix(maximumLength))
        let browser = browsers.first { text.contains($0.0) }?.1 ?? "Unknown"
        var os = systems.first { text.contains($0.0) }?.1 ?? "Unknown"
        // iPads asking for desktop sites say "Macintosh" but also "Mobile/".
        if os == "macOS", text.contains("Mobile/") { os = "iPadOS" }
        let type: DeviceInfo.DeviceType
        if botMarkers.contains(where: text.contains) {
            type = .bot
        } else if os == "iPadOS" || text.contains("Tablet") || (os == "Android" && !text.contains("Mobile")) {
            type = .tablet
        } else if os == "iOS" || text.contains("Mobile") || text.contains("Android") {
            type = .mobile
        } else if ["Windows", "macOS", "Linux", "ChromeOS", "FreeBSD"].contains(os) {
            type = .desktop
        } else {
            type = .unknown
        }
        return DeviceInfo(browser: browser, os: os, type: type)
    }
}
