import DevAPIServer
import JSON
import Testing

@Suite("HTTP watch streaming")
struct HTTPWatchTests {
    @Test func watch_whenObjectsChange_streamsOneChunkedJSONEventPerLine() async throws {
        try await withDevServer { _, port in
            let start = try await HTTPTestConnection.with(port: port) { connection in
                try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("w")).json
            }
            let resourceVersion = start[path: ["metadata", "resourceVersion"]].stringValue ?? ""
            try await HTTPTestConnection.with(port: port) { watcher in
                let head = try await watcher.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(resourceVersion)")
                #expect(head.status.code == 200)
                #expect(head.headers["transfer-encoding"].first == "chunked")
                try await HTTPTestConnection.with(port: port) { writer in
                    _ = try await writer.request(.PATCH, "/api/v1/namespaces/default/configmaps/w", json: ["data": ["k": "2"]], contentType: "application/merge-patch+json")
                    _ = try await writer.request(.DELETE, "/api/v1/namespaces/default/configmaps/w")
                }
                let modified = try await watcher.nextEvent()
                #expect(modified?["type"] == "MODIFIED")
                #expect(modified?[path: ["object", "data", "k"]] == "2")
                let deleted = try await watcher.nextEvent()
                #expect(deleted?["type"] == "DELETED")
            }
        }
    }

    @Test func watch_whenTimeoutSecondsPasses_endsTheResponseCleanly() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                try await connection.send(.GET, "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1")
                // No events exist, so the first thing the stream does is end.
                let line = try await connection.nextLine()
                #expect(line == nil)
                // The connection stays usable after a finished watch (keep-alive).
                let health = try await connection.request(.GET, "/healthz")
                #expect(health.status == 200)
            }
        }
    }

    @Test func watch_withoutResourceVersion_startsWithSyntheticAddedEvents() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                try await connection.send(.GET, "/api/v1/namespaces?watch=true&timeoutSeconds=5")
                var names: Set<String> = []
                for _ in 0..<4 {
                    let event = try await connection.nextEvent()
                    #expect(event?["type"] == "ADDED")
                    if let name = event?[path: ["object", "metadata", "name"]].stringValue { names.insert(name) }
                }
                #expect(names == ["default", "kube-system", "kube-public", "kube-node-lease"])
            }
        }
    }

    @Test func watch_asTable_sendsOneRowTablePerEvent() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("t"))
                try await connection.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5", headers: [
                    ("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
                ])
                let event = try await connection.nextEvent()
                #expect(event?["type"] == "ADDED")
                #expect(event?[path: ["object", "kind"]] == "Table")
                #expect(event?[path: ["object", "rows"]][0]["cells"][0] == "t")
            }
        }
    }

    @Test func watch_whenFaultForcesGone_sendsAn410ErrorEvent() async throws {
        try await withDevServer({ $0.faults.forcedGoneWatches = 1 }) { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                try await connection.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1")
                let event = try await connection.nextEvent()
                #expect(event?["type"] == "ERROR")
                #expect(event?[path: ["object", "code"]] == 410)
                #expect(event?[path: ["object", "reason"]] == "Expired")
                #expect(try await connection.nextLine() == nil)
            }
            #expect(server.faults.counts.forcedGone == 1)
        }
    }

    @Test func watch_whenFaultCutsStreams_closesTheConnectionWithoutTheFinalChunk() async throws {
        try await withDevServer({ $0.faults.cutWatchesAfter = .milliseconds(200) }) { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                try await connection.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=30")
                do {
                    let line = try await connection.nextLine()
                    #expect(line == nil)
                } catch {
                    // An abrupt close may also surface as an error; either way the stream is over.
                }
            }
            #expect(server.faults.counts.watchesCut == 1)
        }
    }
}

@Suite("HTTP watch back-pressure")
struct HTTPWatchBackPressureTests {
    @Test func watch_whenClientStopsReading_storeDropsTheWatcherAndServerKeepsServing() async throws {
        try await withDevServer({ $0.watcherBufferLimit = 100 }) { server, port in
            try await HTTPTestConnection.with(port: port) { stalled in
                try await stalled.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=300")
                let registered = server.store.statistics.watchers
                #expect(registered >= 1)
                // ~20 MiB of events: more than the socket buffers on both sides plus the 100-event
                // subscription buffer, so the store must drop this watcher instead of buffering.
                let payload = String(repeating: "x", count: 4096)
                for index in 0..<5_000 {
                    _ = try server.store.create(ResourceKey(group: "", version: "v1", plural: "configmaps"), namespace: "default",
                                                body: configMap("bulk-\(index)", data: ["payload": payload]), options: WriteOptions())
                }
                #expect(server.store.statistics.droppedWatchers >= 1)
                try await HTTPTestConnection.with(port: port) { other in
                    let response = try await other.request(.GET, "/api/v1/namespaces/default/configmaps/bulk-0")
                    #expect(response.status == 200)
                }
            }
        }
    }
}

@Suite("HTTP watch fan-out")
struct HTTPWatchFanOutTests {
    @Test func watch_withManyWatchersAndConcurrentWriters_everyWatcherSeesEveryEventInOrder() async throws {
        try await withDevServer({ $0.threads = 2 }) { server, port in
            let watchers = 8, writers = 4, writesPerWriter = 50
            let start = server.store.currentResourceVersion
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<watchers {
                    group.addTask {
                        try await HTTPTestConnection.with(port: port) { connection in
                            try await connection.send(.GET, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=60&resourceVersion=\(start)")
                            var versions: [Int] = []
                            while versions.count < writers * writesPerWriter, let event = try await connection.nextEvent() {
                                #expect(event["type"] == "ADDED")
                                versions.append(Int(event[path: ["object", "metadata", "resourceVersion"]].stringValue ?? "") ?? -1)
                            }
                            return versions
                        }
                    }
                }
                // Writers start once every watcher is registered, so no watcher can miss the first events.
                while server.store.statistics.watchers < watchers { try await Task.sleep(for: .milliseconds(5)) }
                try await withThrowingTaskGroup(of: Void.self) { writersGroup in
                    for writer in 0..<writers {
                        writersGroup.addTask {
                            try await HTTPTestConnection.with(port: port) { connection in
                                for index in 0..<writesPerWriter {
                                    let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("w\(writer)-\(index)"))
                                    #expect(response.status == 201)
                                }
                            }
                        }
                    }
                    try await writersGroup.waitForAll()
                }
                for try await versions in group {
                    #expect(versions.count == writers * writesPerWriter)
                    #expect(versions == versions.sorted(), "events arrive in resourceVersion order")
                    #expect(Set(versions).count == versions.count, "no event is delivered twice")
                }
            }
        }
    }
}
