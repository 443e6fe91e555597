import Testing

@testable import AWS

@Suite struct XMLTests {
    @Test func xmlParser_whenElementsHaveNamespaces_matchesByLocalName() throws {
        let root = try XMLElement.parse(#"<?xml version="1.0"?><a:Root xmlns:a="urn:x"><a:Child k="v">text</a:Child></a:Root>"#)
        #expect(root.localName == "Root")
        #expect(root.name == "a:Root")
        #expect(root.child("Child")?.text == "text")
        #expect(root.child("Child")?.attribute("k") == "v")
    }

    @Test func xmlParser_decodesEntitiesCharacterReferencesAndCDATA() throws {
        let root = try XMLElement.parse(
            "<R a=\"&quot;q&apos; &amp; &#x41;\"><T>a &lt;b&gt; &amp; &#65;&#x263A;</T><C><![CDATA[<not> &amp; markup]]></C></R>")
        #expect(root.attribute("a") == "\"q' & A")
        #expect(root.string("T") == "a <b> & A\u{263A}")
        #expect(root.string("C") == "<not> &amp; markup")
    }

    @Test func xmlParser_ignoresCommentsAndLayoutWhitespaceButKeepsLeafText() throws {
        let root = try XMLElement.parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- leading comment -->
            <List>
              <member>  one  </member>
              <!-- between -->
              <member>two</member>
            </List>
            """)
        #expect(root.text == "")
        #expect(root.children("member").map(\.text) == ["  one  ", "two"])
        #expect(root.strings("List") == [])
    }

    @Test func xmlParser_selfClosingElementsHaveEmptyText() throws {
        let root = try XMLElement.parse("<R><Empty/><Other x='1' /></R>")
        #expect(root.children.map(\.name) == ["Empty", "Other"])
        #expect(root.child("Empty")?.text == "")
        #expect(root.child("Other")?.attribute("x") == "1")
    }

    @Test(arguments: [
        "<a><b></a></b>",
        "<a>",
        "<a></a><b></b>",
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
        "<a>&unknown;</a>",
        "<a x=1></a>",
        "<a x='1' x='2'></a>",
        "",
        "plain text",
        "<a><![CDATA[never closed</a>",
        "<1a></1a>",
    ])
    func xmlParser_whenDocumentIsMalformed_throws(_ text: String) {
        #expect(throws: XMLParseError.self) { try XMLElement.parse(text) }
    }

    @Test func xmlParser_whenNestingIsAbsurdlyDeep_throwsInsteadOfOverflowingTheStack() {
        let text = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        #expect(throws: XMLParseError.self) { try XMLElement.parse(text) }
    }

    @Test func xmlWriter_escapesTextAndAttributes_andRoundTrips() throws {
        let element = XMLElement(
            "Root", attributes: [(name: "xmlns", value: "urn:\"x\"&")],
            children: [XMLElement("Key", "a<b>&c"), XMLElement("Empty", text: "")])
        let text = element.serialized()
        #expect(text == #"<Root xmlns="urn:&quot;x&quot;&amp;"><Key>a&lt;b&gt;&amp;c</Key><Empty/></Root>"#)
        #expect(try XMLElement.parse(text) == element)
        #expect(element.serialized(declaration: true).hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?><Root"#))
    }

    @Test func xmlElement_typedAccessorsReadNumbersAndBooleans() throws {
        let root = try XMLElement.parse("<R><N> 42 </N><D>80.5</D><B>true</B><F>False</F><X>maybe</X></R>")
        #expect(root.int("N") == 42)
        #expect(root.double("D") == 80.5)
        #expect(root.bool("B") == true)
        #expect(root.bool("F") == false)
        #expect(root.bool("X") == nil)
        #expect(root.int("Missing") == nil)
    }
}
