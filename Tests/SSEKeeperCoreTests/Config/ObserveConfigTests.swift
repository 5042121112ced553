import Testing
@testable import SSEKeeperCore

/// `admin_listen`, `access_log` and `log_format`: defaults, accepted values, and each rejection with its position.
struct ObserveConfigTests {
    @Test func defaults_areNoAdminEndpoint_andTextRecordsOnStderr() throws {
        let config = try parseValid(minimalConfig)
        #expect(config.observe == ObserveSettings(adminListen: nil, accessLog: .stderr, logFormat: .text))
    }

    @Test func everyValue_isAccepted() throws {
        let config = try parseValid(minimalConfig + "admin_listen 127.0.0.1:9901;\naccess_log /var/log/ssekeeper/access.log;\nlog_format json;\n")
        #expect(config.observe.adminListen == ListenAddress(host: "127.0.0.1", port: 9901))
        #expect(config.observe.accessLog == .file("/var/log/ssekeeper/access.log"))
        #expect(config.observe.logFormat == .json)
        let off = try parseValid(minimalConfig + "admin_listen off;\naccess_log off;\nlog_format text;\n")
        #expect(off.observe == ObserveSettings(adminListen: nil, accessLog: .off, logFormat: .text))
        #expect(try parseValid(minimalConfig + "access_log stderr;\n").observe.accessLog == .stderr)
        #expect(try parseValid(minimalConfig + "admin_listen [::1]:9901;\n").observe.adminListen == ListenAddress(host: "::1", port: 9901))
        #expect(try parseValid(minimalConfig + "access_log \"/tmp/with space.log\";\n").observe.accessLog == .file("/tmp/with space.log"))
    }

    @Test func badValues_areReported_atTheirToken() {
        #expect(parseErrors(minimalConfig + "admin_listen 127.0.0.1;\n") == [
            #"test.conf:4:14: admin_listen: missing port in "127.0.0.1" (use HOST:PORT or PORT)"#,
        ])
        #expect(parseErrors(minimalConfig + "access_log logs/access.log;\n") == [
            #"test.conf:4:12: access_log must be an absolute path, stderr or off, got "logs/access.log""#,
        ])
        #expect(parseErrors(minimalConfig + "access_log /var/log/;\n") == [
            #"test.conf:4:12: access_log must name a file, got the directory "/var/log/""#,
        ])
        #expect(parseErrors(minimalConfig + "access_log \"/tmp/a\\u{1}b\";\n").count == 1)
        #expect(parseErrors(minimalConfig + "log_format xml;\n") == [
            #"test.conf:4:12: log_format must be text or json, got "xml""#,
        ])
        #expect(parseErrors(minimalConfig + "log_format json;\nlog_format text;\n") == [
            #"test.conf:5:1: duplicate directive "log_format", first at line 4"#,
        ])
    }

    @Test func anAccessLogPath_overPATHMAX_isRejected_byTheTokenLimit() {
        let long = "/" + String(repeating: "a", count: 4096)
        #expect(parseErrors(minimalConfig + "access_log \(long);\n") == ["test.conf:4:12: token is longer than 4096 bytes"])
    }

    @Test func adminListen_sharingAPortWithAListen_isRejected_whereverItStands() {
        // minimalConfig listens on *:8080.
        #expect(parseErrors("admin_listen 127.0.0.1:8080;\n" + minimalConfig) == [
            #"test.conf:1:14: admin_listen 127.0.0.1:8080 would share a port with listen *:8080: give the admin endpoint its own address"#,
        ])
        #expect(parseErrors("listen 127.0.0.1:9000;\nadmin_listen 9000;\nupstream a { server h:1; }\nroute / { upstream a; }\n").count == 1)
        #expect(parseErrors("listen LocalHost:9000;\nadmin_listen localhost:9000;\nupstream a { server h:1; }\nroute / { upstream a; }\n").count == 1)
    }

    @Test func adminListen_onTheSamePortOfAnotherHost_isAccepted() throws {
        let config = try parseValid("listen 10.0.0.1:8080;\nadmin_listen 127.0.0.1:8080;\nupstream a { server h:1; }\nroute / { upstream a; }\n")
        #expect(config.observe.adminListen?.port == 8080)
    }

    @Test func observeDirectives_areTopLevelOnly() {
        #expect(parseErrors("listen 80;\nupstream a { server h:1; }\nroute / { upstream a; log_format json; }\n") == [
            #"test.conf:3:23: "log_format" is not allowed in a route block; it belongs at top level"#,
        ])
    }
}
