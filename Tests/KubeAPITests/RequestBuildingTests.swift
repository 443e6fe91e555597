import HTTPTransport
import JSON
@testable import KubeAPI
import Testing

struct RequestBuildingTests {
    @Test func get_coreNamespacedObject_usesApiV1Path() {
        let request = APIRequest.get(.configMaps, namespace: "team-a", name: "settings")
        #expect(request.method == "GET")
        #expect(request.pathAndQuery == "/api/v1/namespaces/team-a/configmaps/settings")
        #expect(request.headers["Accept"] == "application/json")
        #expect(request.headers["User-Agent"] == "medsearch-operator/0.1")
        #expect(request.headers["Content-Type"] == nil)
        #expect(request.body == nil)
    }

    @Test func get_namedGroupObject_usesApisGroupVersionPath() {
        let request = APIRequest.get(.deployments, namespace: "prod", name: "search")
        #expect(request.path == "/apis/apps/v1/namespaces/prod/deployments/search")
    }

    @Test func get_clusterScopedObject_ignoresNamespace() {
        let request = APIRequest.get(.namespaces, namespace: "ignored", name: "prod")
        #expect(request.path == "/api/v1/namespaces/prod")
        #expect(request.target.namespace == nil)
    }

    @Test func get_customResourceStatus_addressesSubresource() {
        let platforms = APIResource(
            group: "platform.medsearch.io", version: "v1alpha1", plural: "medicalsearchplatforms",
            kind: "MedicalSearchPlatform", namespaced: true)
        let request = APIRequest.get(platforms, namespace: "clinic", name: "main", subresource: "status")
        #expect(request.path == "/apis/platform.medsearch.io/v1alpha1/namespaces/clinic/medicalsearchplatforms/main/status")
        #expect(request.target.description == "medicalsearchplatforms.platform.medsearch.io clinic/main (status)")
    }

    @Test func get_nameWithReservedCharacters_isPercentEncoded() {
        let request = APIRequest.get(.serviceAccounts, namespace: "a b", name: "system:x/../y?z")
        #expect(request.path == "/api/v1/namespaces/a%20b/serviceaccounts/system%3Ax%2F..%2Fy%3Fz")
    }

    @Test func list_withEveryOption_buildsQueryInFixedOrderWithEncodedValues() {
        let options = ListOptions(
            labelSelector: "app in (search,ai),tier!=dev", fieldSelector: "metadata.name=x&y", limit: 50,
            continueToken: "abc+/=", resourceVersion: "123", resourceVersionMatch: .notOlderThan, timeoutSeconds: 9)
        let request = APIRequest.list(.deployments, namespace: "prod", options: options)
        #expect(request.path == "/apis/apps/v1/namespaces/prod/deployments")
        #expect(
            request.pathAndQuery == "/apis/apps/v1/namespaces/prod/deployments?labelSelector=app%20in%20%28search%2Cai%29%2Ctier%21%3Ddev"
                + "&fieldSelector=metadata.name%3Dx%26y&limit=50&continue=abc%2B%2F%3D&resourceVersion=123"
                + "&resourceVersionMatch=NotOlderThan&timeoutSeconds=9")
    }

    @Test func list_withoutNamespace_listsAcrossNamespaces() {
        #expect(APIRequest.list(.pods, namespace: nil).pathAndQuery == "/api/v1/pods")
    }

    @Test func watch_withOptions_setsWatchAndBookmarks() {
        let request = APIRequest.watch(
            .leases, namespace: "kube-system", options: WatchOptions(resourceVersion: "77", labelSelector: "a=b", timeoutSeconds: 300))
        #expect(
            request.pathAndQuery
                == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=true&resourceVersion=77&labelSelector=a%3Db&allowWatchBookmarks=true&timeoutSeconds=300")
        let noBookmarks = APIRequest.watch(.leases, namespace: nil, options: WatchOptions(allowWatchBookmarks: false))
        #expect(noBookmarks.pathAndQuery == "/apis/coordination.k8s.io/v1/leases?watch=true")
    }

    @Test func create_postsJSONToCollectionWithDefaultFieldManager() throws {
        let object: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "namespace": "ns"]]
        let request = APIRequest.create(.configMaps, namespace: "ns", object: object, defaultFieldManager: "medsearch")
        #expect(request.method == "POST")
        #expect(request.pathAndQuery == "/api/v1/namespaces/ns/configmaps?fieldManager=medsearch")
        #expect(request.headers["Content-Type"] == "application/json")
        #expect(try JSONValue.parse(#require(request.body)) == object)
        #expect(request.target.name == "c")
    }

    @Test func update_withDryRunAndOwnFieldManager_putsToObjectPath() {
        let object: JSONValue = ["metadata": ["name": "web", "resourceVersion": "5"]]
        let request = APIRequest.update(
            .services, namespace: "ns", object: object, options: WriteOptions(dryRun: true, fieldManager: "me"),
            defaultFieldManager: "ignored")
        #expect(request.method == "PUT")
        #expect(request.verb == "update")
        #expect(request.pathAndQuery == "/api/v1/namespaces/ns/services/web?dryRun=All&fieldManager=me")
    }

    @Test func update_statusSubresource_putsToStatusPath() {
        let request = APIRequest.update(.deployments, namespace: "ns", object: ["metadata": ["name": "d"]], subresource: "status")
        #expect(request.path == "/apis/apps/v1/namespaces/ns/deployments/d/status")
        #expect(request.verb == "update status")
    }

    @Test(arguments: [
        (Patch.merge(["a": 1]), "application/merge-patch+json", "{\"a\":1}"),
        (Patch.json([["op": "remove", "path": "/a"]]), "application/json-patch+json", "[{\"op\":\"remove\",\"path\":\"/a\"}]"),
        (Patch.strategicMerge(["spec": ["replicas": 2]]), "application/strategic-merge-patch+json", "{\"spec\":{\"replicas\":2}}"),
        (Patch.apply(["kind": "X"], force: false), "application/apply-patch+yaml", "{\"kind\":\"X\"}"),
    ])
    func patch_eachKind_setsItsContentTypeAndBody(patch: Patch, contentType: String, body: String) {
        let request = APIRequest.patch(.deployments, namespace: "ns", name: "d", patch: patch, defaultFieldManager: "fm")
        #expect(request.method == "PATCH")
        #expect(request.headers["Content-Type"] == contentType)
        #expect(request.body == Array(body.utf8))
        #expect(request.pathAndQuery == "/apis/apps/v1/namespaces/ns/deployments/d?fieldManager=fm")
    }

    @Test func patch_forcedApplyOnStatus_addsForceAndTargetsStatus() {
        let request = APIRequest.patch(
            .deployments, namespace: "ns", name: "d", patch: .apply(["status": [:]], force: true), subresource: "status",
            defaultFieldManager: "medsearch-operator")
        #expect(request.pathAndQuery == "/apis/apps/v1/namespaces/ns/deployments/d/status?fieldManager=medsearch-operator&force=true")
        #expect(request.verb == "apply status")
    }

    @Test func delete_withOptions_sendsDeleteOptionsBody() throws {
        let request = APIRequest.delete(
            .deployments, namespace: "ns", name: "d",
            options: DeleteOptions(
                propagationPolicy: .foreground, preconditionUID: "u-1", preconditionResourceVersion: "9", gracePeriodSeconds: 0,
                dryRun: true))
        #expect(request.method == "DELETE")
        #expect(request.pathAndQuery == "/apis/apps/v1/namespaces/ns/deployments/d?dryRun=All")
        let body = try JSONValue.parse(#require(request.body))
        #expect(body == [
            "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground", "gracePeriodSeconds": 0,
            "preconditions": ["uid": "u-1", "resourceVersion": "9"], "dryRun": ["All"],
        ])
    }

    @Test func delete_withDefaults_sendsMinimalBody() throws {
        let body = try JSONValue.parse(#require(APIRequest.delete(.secrets, namespace: "ns", name: "s").body))
        #expect(body == ["apiVersion": "v1", "kind": "DeleteOptions"])
    }

    @Test func percentEncoding_keepsUnreservedAndEncodesUTF8() {
        #expect(PercentEncoding.queryComponent("aZ09-._~") == "aZ09-._~")
        #expect(PercentEncoding.queryComponent("é ü") == "%C3%A9%20%C3%BC")
    }
}
