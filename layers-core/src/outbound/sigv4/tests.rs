//! SigV4 against the AWS Signature Version 4 test suite and for what a Worker sends.
//!
//! Sources of the vectors (published test data, transcribed):
//!
//! * The 2015 suite (`AKIDEXAMPLE`, `us-east-1`, service `service`, 20150830T123600Z): each
//!   request (`.req`), canonical request (`.creq`), string to sign (`.sts`) and `Authorization`
//!   (`.authz`). The Authorization headers are also those of `aws/aws-sdk-js-v3`
//!   `packages/signature-v4/src/suite.fixture.ts` and of `awslabs/aws-c-auth`
//!   `tests/aws-signing-test-suite/v4/<name>/header-signed-request.txt` (the `-normalized`
//!   variants for the path tests, `post-sts-header-before`, `get-vanilla-with-session-token`).
//! * `awslabs/aws-sdk-rust` `sdk/aws-sigv4/aws-sig-v4-test-suite/double-encode-path/
//!   double-encode-path.sreq`: a path escape (`%3D`) encoded twice.
//! * `boto/botocore` `tests/unit/auth/aws4_testsuite/get-space.{creq,sts,authz}` and
//!   `get-utf8.{creq,sts,authz}`: the 2011 suite (service `host`, a `Date` header) as botocore
//!   keeps it, double-encoding the escapes of the path as sent.

use super::*;
use crate::identity::TempCredentials;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z.
const T2015: u64 = 1_440_938_160;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// aws-c-auth's `get-vanilla-with-session-token` token.
const C_AUTH_TOKEN: &str = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
/// The 2015 suite's `post-sts-token` token.
const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

fn params(service: &'static str, token: Option<&'static str>, time: u64) -> SigningParams<'static> {
    SigningParams {
        access_key_id: AKID,
        secret_access_key: SECRET,
        session_token: token,
        region: "us-east-1",
        service,
        time,
    }
}

/// One vector of the 2015 suite.
struct Vector {
    name: &'static str,
    method: &'static str,
    /// The request line's target, as in the `.req` file.
    target: &'static str,
    /// The `.req` file's headers but `Host`.
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    creq: &'static str,
    /// The last line of the `.sts` (the hash of the canonical request); the rest is the
    /// algorithm, `20150830T123600Z` and `20150830/us-east-1/service/aws4_request`.
    sts_hash: &'static str,
    /// The `.authz`'s `SignedHeaders` and `Signature`.
    signed_headers: &'static str,
    signature: &'static str,
    /// Whether a URL (`https://example.amazonaws.com` + target) sends exactly the request line:
    /// not when the target has a raw space or non-ASCII path, or repeats a header name.
    via_url: bool,
}

const DATE: (&str, &str) = ("X-Amz-Date", "20150830T123600Z");

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        target: "/",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        via_url: true,
    },
    Vector {
        name: "get-vanilla-empty-query-key",
        method: "GET",
        target: "/?Param1=value1",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
        signed_headers: "host;x-amz-date",
        signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        via_url: true,
    },
    Vector {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        target: "/?Param2=value2&Param1=value1",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        via_url: true,
    },
    Vector {
        name: "get-vanilla-query-order-key",
        method: "GET",
        target: "/?Param1=value2&Param1=Value1",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
        signed_headers: "host;x-amz-date",
        signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        via_url: true,
    },
    Vector {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        target: "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        via_url: true,
    },
    Vector {
        name: "get-vanilla-utf8-query",
        method: "GET",
        target: "/?ሴ=bar",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
        signed_headers: "host;x-amz-date",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        // The query is decoded before it is encoded: `%E1%88%B4` on the wire signs alike.
        via_url: true,
    },
    Vector {
        name: "get-unreserved",
        method: "GET",
        target: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[DATE],
        body: "",
        creq: "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        via_url: true,
    },
    Vector {
        name: "get-utf8",
        method: "GET",
        target: "/ሴ",
        headers: &[DATE],
        body: "",
        creq: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        // fetch sends `/%E1%88%B4`, whose escapes are then encoded again (botocore's get-utf8).
        via_url: false,
    },
    Vector {
        name: "normalize-path/get-space",
        method: "GET",
        target: "/example space/",
        headers: &[DATE],
        body: "",
        creq: "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
        signed_headers: "host;x-amz-date",
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        // A raw space in a URL is refused (fetch would send `%20`, encoded again).
        via_url: false,
    },
    Vector {
        name: "normalize-path/get-slash",
        method: "GET",
        target: "//",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        via_url: true,
    },
    Vector {
        name: "normalize-path/get-slashes",
        method: "GET",
        target: "//example//",
        headers: &[DATE],
        body: "",
        creq: "GET\n/example/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
        signed_headers: "host;x-amz-date",
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        via_url: true,
    },
    Vector {
        name: "normalize-path/get-slash-dot-slash",
        method: "GET",
        target: "/./",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        via_url: true,
    },
    Vector {
        name: "normalize-path/get-slash-pointless-dot",
        method: "GET",
        target: "/./example",
        headers: &[DATE],
        body: "",
        creq: "GET\n/example\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
        signed_headers: "host;x-amz-date",
        signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        via_url: true,
    },
    Vector {
        name: "normalize-path/get-relative",
        method: "GET",
        target: "/example/..",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        via_url: true,
    },
    Vector {
        name: "normalize-path/get-relative-relative",
        method: "GET",
        target: "/example1/example2/../..",
        headers: &[DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        via_url: true,
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        target: "/",
        headers: &[("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1"), DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        via_url: false,
    },
    Vector {
        name: "get-header-value-order",
        method: "GET",
        target: "/",
        headers: &[
            ("My-Header1", "value4"),
            ("My-Header1", "value1"),
            ("My-Header1", "value3"),
            ("My-Header1", "value2"),
            DATE,
        ],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
        via_url: false,
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        target: "/",
        headers: &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""), DATE],
        body: "",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        via_url: true,
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        target: "/",
        headers: &[DATE],
        body: "",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        via_url: true,
    },
    Vector {
        name: "post-vanilla-query",
        method: "POST",
        target: "/?Param1=value1",
        headers: &[DATE],
        body: "",
        creq: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
        signed_headers: "host;x-amz-date",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        via_url: true,
    },
    Vector {
        name: "post-header-key-case",
        method: "POST",
        target: "/",
        headers: &[DATE],
        body: "",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        via_url: true,
    },
    Vector {
        name: "post-header-key-sort",
        method: "POST",
        target: "/",
        headers: &[("My-Header1", "value1"), DATE],
        body: "",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        via_url: true,
    },
    Vector {
        name: "post-header-value-case",
        method: "POST",
        target: "/",
        headers: &[("My-Header1", "VALUE1"), DATE],
        body: "",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        via_url: true,
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        target: "/",
        headers: &[("Content-Type", "application/x-www-form-urlencoded"), DATE],
        body: "Param1=value1",
        creq: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        sts_hash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
        signed_headers: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        via_url: true,
    },
    Vector {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        target: "/",
        headers: &[("Content-Type", "application/x-www-form-urlencoded; charset=utf8"), DATE],
        body: "Param1=value1",
        creq: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf8\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        sts_hash: "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c",
        signed_headers: "content-type;host;x-amz-date",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
        via_url: true,
    },
    Vector {
        name: "post-sts-token/post-sts-header-before",
        method: "POST",
        target: "/",
        headers: &[DATE, ("X-Amz-Security-Token", STS_TOKEN)],
        body: "",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        via_url: true,
    },
];

fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}

fn expected_sts(v: &Vector) -> String {
    format!("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}", v.sts_hash)
}

fn expected_authz(v: &Vector) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={}, Signature={}",
        v.signed_headers, v.signature
    )
}

/// Signs the request line of `v` as the suite's `.req` has it.
fn sign_request_line(v: &Vector) -> Signed {
    let (path, query) = v.target.split_once('?').unwrap_or((v.target, ""));
    let headers = owned(v.headers);
    let hash = hex(&Sha256::digest(v.body.as_bytes()));
    let parts = Parts { method: v.method, host: "example.amazonaws.com", path, query, headers: &headers };
    sign_parts(&parts, &hash, &params("service", None, T2015), "20150830T123600Z").unwrap()
}

#[test]
fn the_2015_suite_request_lines() {
    assert_eq!(amz_date(T2015).unwrap(), "20150830T123600Z");
    for v in VECTORS {
        let s = sign_request_line(v);
        assert_eq!(s.canonical_request, v.creq, "{}: canonical request", v.name);
        assert_eq!(s.string_to_sign, expected_sts(v), "{}: string to sign", v.name);
        assert_eq!(s.authorization, expected_authz(v), "{}: authorization", v.name);
    }
}

/// The same vectors through `sign_with` (a URL, headers, a body), where a URL sends exactly the
/// suite's request line: the headers `sign` sets replace the request's own.
#[test]
fn the_2015_suite_through_urls() {
    let mut n = 0;
    for v in VECTORS.iter().filter(|v| v.via_url) {
        let token = v.headers.iter().find(|(h, _)| h.eq_ignore_ascii_case("x-amz-security-token")).map(|(_, t)| *t);
        let mut req = OutboundRequest {
            method: v.method.into(),
            url: format!("https://example.amazonaws.com{}", v.target),
            headers: owned(v.headers),
            body: (!v.body.is_empty()).then(|| v.body.as_bytes().to_vec()),
            ..Default::default()
        };
        let s = sign_with(&mut req, &params("service", token, T2015), false).unwrap();
        assert_eq!(s.canonical_request, v.creq, "{}: canonical request", v.name);
        assert_eq!(s.string_to_sign, expected_sts(v), "{}: string to sign", v.name);
        assert_eq!(s.authorization, expected_authz(v), "{}: authorization", v.name);
        let authz: Vec<_> = req.headers.iter().filter(|(h, _)| h == "authorization").collect();
        assert_eq!(authz, [&("authorization".to_owned(), expected_authz(v))], "{}", v.name);
        assert_eq!(req.headers.iter().filter(|(h, _)| h.eq_ignore_ascii_case("x-amz-date")).count(), 1);
        n += 1;
    }
    assert_eq!(n, 22);
}

/// `get-header-value-multiline`: an obs-folded value cannot be sent by fetch; refused. Joined
/// with commas, as aws-sdk-js-v3's fixture gives it, it signs as the suite says.
#[test]
fn the_2015_multiline_header() {
    let folded = owned(&[("My-Header1", "value1\n  value2\n     value3"), DATE]);
    let parts = Parts { method: "GET", host: "example.amazonaws.com", path: "/", query: "", headers: &folded };
    let err = sign_parts(&parts, EMPTY_SHA256, &params("service", None, T2015), "20150830T123600Z").unwrap_err();
    assert_eq!(err, SignError::BadHeaderValue { name: "my-header1".into() });
    let joined = owned(&[("My-Header1", "value1,value2,value3"), DATE]);
    let parts = Parts { headers: &joined, ..parts };
    let s = sign_parts(&parts, EMPTY_SHA256, &params("service", None, T2015), "20150830T123600Z").unwrap();
    assert!(s.canonical_request.contains("\nmy-header1:value1,value2,value3\n"));
    assert_eq!(s.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790");
}

/// A repeated header name signs as the suite says (above) but is refused by `sign`: the Workers
/// fetch sets headers one by one, keeping the last value only.
#[test]
fn duplicate_headers_are_refused_by_sign() {
    let mut req = OutboundRequest::get("https://example.amazonaws.com/");
    req.headers = owned(&[("My-Header1", "value2"), ("my-header1", "value1")]);
    let before = req.clone();
    let err = sign_with(&mut req, &params("service", None, T2015), false).unwrap_err();
    assert_eq!(err, SignError::DuplicateHeader { name: "my-header1".into() });
    assert_eq!(req, before);
}

/// aws-c-auth's `get-vanilla-with-session-token`: the session token is signed.
#[test]
fn aws_c_auth_session_token() {
    let mut req = OutboundRequest::get("https://example.amazonaws.com/");
    let s = sign_with(&mut req, &params("service", Some(C_AUTH_TOKEN), T2015), false).unwrap();
    assert_eq!(s.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    assert!(req.headers.contains(&("x-amz-security-token".into(), C_AUTH_TOKEN.into())));
}

/// aws-sdk-rust's `double-encode-path`: the `%3D` of the path is encoded again, `@` once.
#[test]
fn aws_sdk_rust_double_encode_path() {
    let mut req = OutboundRequest {
        method: "POST".into(),
        url: "https://tj9n5r0m12.execute-api.us-east-1.amazonaws.com/test/@connections/JBDvjfGEIAMCERw%3D".into(),
        ..Default::default()
    };
    let s = sign_with(&mut req, &params("service", None, T2015), false).unwrap();
    assert_eq!(
        s.canonical_request,
        format!("POST\n/test/%40connections/JBDvjfGEIAMCERw%253D\n\nhost:tj9n5r0m12.execute-api.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA256}")
    );
    assert_eq!(s.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=6f871eb157f326fa5f7439eb88ca200048635950ce7d6037deda56f0c95d4364");
}

/// botocore's copy of the 2011 suite: the path as fetch sends it (`%20`, and the escapes of
/// `ሴ`) is encoded again. URLs → wire path → canonical request → string to sign → signature.
#[test]
fn botocore_2011_double_encoded_paths() {
    let cases = [
        (
            "https://host.foo.com/%20/foo",
            "GET\n/%2520/foo\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n35975885599128f8963ce9be7219598b2b5a344321bae304529556c891e9e6ba",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=2be9e587d1ee1f0fd02128724b86b4358ba3630d39f493b6e06610a19a50779e",
        ),
        (
            "https://host.foo.com/ሴ",
            "GET\n/%25E1%2588%25B4\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n47f4456c465167f4db3490a68903fe057412e6e030de38f71d9006467eb4922a",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=57b1eb3df3b16a8479c0097b66c0b261cfd65b829419a3f2c3d05319722490b8",
        ),
    ];
    for (url, creq, sts, authz) in cases {
        let t = Target::of(url).unwrap();
        let headers = owned(&[("Date", "Mon, 09 Sep 2011 23:36:00 GMT")]);
        let parts = Parts { method: "GET", host: &t.host, path: &t.path, query: &t.query, headers: &headers };
        let s = sign_parts(&parts, EMPTY_SHA256, &params("host", None, 1_315_611_360), "20110909T233600Z").unwrap();
        assert_eq!(amz_date(1_315_611_360).unwrap(), "20110909T233600Z");
        assert_eq!(
            (s.canonical_request.as_str(), s.string_to_sign.as_str(), s.authorization.as_str()),
            (creq, sts, authz)
        );
    }
}

fn header<'a>(req: &'a OutboundRequest, name: &str) -> Option<&'a str> {
    req.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Bedrock InvokeModel: the model id's `%3A` is signed as `%253A`, as botocore signs it; `sign`
/// adds the body's hash and signs it.
#[test]
fn bedrock_invoke_model() {
    let body = br#"{"prompt":"\n\nHuman: Hi\n\nAssistant:","max_tokens_to_sample":50}"#.to_vec();
    let url = "https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-v2%3A1/invoke";
    let mut req = OutboundRequest::post(url, "application/json", body.clone());
    let p = SigningParams { region: "eu-west-3", service: "bedrock", ..params("service", Some("tok3n"), T2015) };
    let s = sign_with(&mut req, &p, true).unwrap();
    let sha = hex(&Sha256::digest(&body));
    assert_eq!(
        s.canonical_request,
        format!(
            "POST\n/model/anthropic.claude-v2%253A1/invoke\n\ncontent-type:application/json\n\
             host:bedrock-runtime.eu-west-3.amazonaws.com\nx-amz-content-sha256:{sha}\n\
             x-amz-date:20150830T123600Z\nx-amz-security-token:tok3n\n\n\
             content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n{sha}"
        )
    );
    assert!(s
        .string_to_sign
        .starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-3/bedrock/aws4_request\n"));
    assert_eq!(req.url, url, "the URL is sent as given");
    assert_eq!(header(&req, "x-amz-content-sha256"), Some(sha.as_str()));
    assert_eq!(header(&req, "authorization"), Some(s.authorization.as_str()));
    let names: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "authorization"]);
    // A raw `:` travels as is and is encoded once: the same request to AWS, signed alike.
    let mut raw = OutboundRequest::post(&url.replace("%3A", ":"), "application/json", body);
    let s2 = sign_with(&mut raw, &p, true).unwrap();
    assert!(s2.canonical_request.starts_with("POST\n/model/anthropic.claude-v2%3A1/invoke\n"));
}

#[test]
fn host_keeps_a_non_default_port_only() {
    let cases = [
        ("https://example.amazonaws.com:8443/x", "example.amazonaws.com:8443"),
        ("https://example.amazonaws.com:443/x", "example.amazonaws.com"),
        ("https://EXAMPLE.amazonaws.com/x", "example.amazonaws.com"),
        ("http://localhost:8787/x", "localhost:8787"),
        ("http://127.0.0.1:80/x", "127.0.0.1"),
        ("http://[::1]:9000/x", "[::1]:9000"),
    ];
    for (url, host) in cases {
        let mut req = OutboundRequest::get(url);
        let s = sign_with(&mut req, &params("service", None, T2015), false).unwrap();
        assert!(s.canonical_request.contains(&format!("\nhost:{host}\n")), "{url}: {}", s.canonical_request);
        assert!(header(&req, "host").is_none(), "no host header is added");
    }
}

#[test]
fn methods_as_fetch_sends_them() {
    let mut req = OutboundRequest { method: "post".into(), ..OutboundRequest::get("https://example.amazonaws.com/") };
    let s = sign_with(&mut req, &params("service", None, T2015), false).unwrap();
    assert!(s.canonical_request.starts_with("POST\n"));
    for bad in ["FOO", "", "GET ", "CONNECT", "G\nET"] {
        let mut req = OutboundRequest { method: bad.into(), ..OutboundRequest::get("https://example.amazonaws.com/") };
        assert_eq!(sign(&mut req, &params("service", None, T2015)), Err(SignError::BadMethod), "{bad:?}");
    }
}

/// Signing again (a retry, a later time) replaces what the first signing added.
#[test]
fn signing_again_replaces() {
    let mut req = OutboundRequest::post("https://example.amazonaws.com/", "text/plain", b"x".to_vec());
    sign(&mut req, &params("service", Some("t1"), T2015)).unwrap();
    sign(&mut req, &params("service", None, T2015 + 60)).unwrap();
    let names: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["content-type", "x-amz-date", "x-amz-content-sha256", "authorization"]);
    assert_eq!(header(&req, "x-amz-date"), Some("20150830T123700Z"));
}

#[test]
fn amz_dates() {
    assert_eq!(amz_date(0).unwrap(), "19700101T000000Z");
    assert_eq!(amz_date(951_782_400).unwrap(), "20000229T000000Z");
    assert_eq!(amz_date(1_795_892_400).unwrap(), "20261128T190000Z");
    assert_eq!(amz_date(MAX_TIME).unwrap(), "99991231T235959Z");
    assert_eq!(amz_date(MAX_TIME + 1), Err(SignError::TimeOutOfRange));
    assert_eq!(amz_date(u64::MAX), Err(SignError::TimeOutOfRange));
}

#[test]
fn hostile_inputs_are_refused_and_leave_the_request_alone() {
    let ok = || OutboundRequest::get("https://example.amazonaws.com/a?b=c");
    let p = params("service", Some("token"), T2015);
    let urls = [
        ("", SignError::NotAUrl),
        ("not a url", SignError::NotAUrl),
        ("/relative", SignError::NotAUrl),
        ("ftp://example.com/", SignError::NotAUrl),
        ("file:///etc/passwd", SignError::NotAUrl),
        ("javascript:alert(1)", SignError::NotAUrl),
        ("https://user:pw@example.com/", SignError::NotAUrl),
        ("https://user@example.com/", SignError::NotAUrl),
        ("https://example.com/a b", SignError::NotAUrl),
        ("https://example.com/\r\nx-evil: 1", SignError::NotAUrl),
        ("https://exa\tmple.com/", SignError::NotAUrl),
        ("https://example.com/\u{7f}", SignError::NotAUrl),
        ("https://[::1/", SignError::NotAUrl),
        ("https://", SignError::NotAUrl),
        ("http://example.com/", SignError::InsecureUrl),
        ("http://169.254.169.254/latest", SignError::InsecureUrl),
    ];
    let long = format!("https://example.com/{}", "a".repeat(canonical::MAX_URL_LEN));
    for (url, want) in urls.iter().cloned().chain([(long.as_str(), SignError::NotAUrl)]) {
        let mut req = OutboundRequest { url: url.into(), ..ok() };
        let before = req.clone();
        assert_eq!(sign(&mut req, &p), Err(want), "{url:?}");
        assert_eq!(req, before);
    }
    let headers: [(&str, &str, SignError); 9] = [
        ("x-evil", "a\r\nx-injected: 1", SignError::BadHeaderValue { name: "x-evil".into() }),
        ("x-evil", "a\nb", SignError::BadHeaderValue { name: "x-evil".into() }),
        ("x-evil", "a\0b", SignError::BadHeaderValue { name: "x-evil".into() }),
        ("X-Tab", "a\tb", SignError::BadHeaderValue { name: "x-tab".into() }),
        ("x-utf8", "é", SignError::BadHeaderValue { name: "x-utf8".into() }),
        ("bad name", "v", SignError::BadHeaderName),
        ("", "v", SignError::BadHeaderName),
        ("x:y", "v", SignError::BadHeaderName),
        ("Host", "evil.example", SignError::HostHeader),
    ];
    for (name, value, want) in headers {
        let mut req = ok();
        req.headers.push((name.into(), value.into()));
        let before = req.clone();
        assert_eq!(sign(&mut req, &p), Err(want), "{name:?}: {value:?}");
        assert_eq!(req, before);
    }
    let bad_params = [
        (SigningParams { access_key_id: "", ..p }, SignError::BadCredentials),
        (SigningParams { access_key_id: "AKID/x", ..p }, SignError::BadCredentials),
        (SigningParams { access_key_id: "AKID, Signature=0", ..p }, SignError::BadCredentials),
        (SigningParams { secret_access_key: "", ..p }, SignError::BadCredentials),
        (SigningParams { session_token: Some(""), ..p }, SignError::BadCredentials),
        (SigningParams { session_token: Some("a\r\nx: y"), ..p }, SignError::BadCredentials),
        (SigningParams { session_token: Some("a b"), ..p }, SignError::BadCredentials),
        (SigningParams { region: "", ..p }, SignError::BadScope),
        (SigningParams { region: "us-east-1/x", ..p }, SignError::BadScope),
        (SigningParams { service: "bed rock", ..p }, SignError::BadScope),
        (SigningParams { service: "bedrock\n", ..p }, SignError::BadScope),
        (SigningParams { time: u64::MAX, ..p }, SignError::TimeOutOfRange),
    ];
    for (bad, want) in bad_params {
        let mut req = ok();
        assert_eq!(sign(&mut req, &bad), Err(want.clone()), "{bad:?}");
        assert_eq!(req, ok());
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn canonical_paths_and_queries() {
    for (path, want) in [
        ("", "/"),
        ("/", "/"),
        ("/a/./b/../c/", "/a/c/"),
        ("/../../a", "/a"),
        ("/a%2Fb", "/a%252Fb"),
        ("/a:b@c", "/a%3Ab%40c"),
        ("/%zz", "/%25zz"),
    ] {
        assert_eq!(canonical_path(path), want, "{path:?}");
    }
    for (query, want) in [
        ("", ""),
        ("&&", ""),
        ("b&a=", "a=&b="),
        ("a=1=2", "a=1%3D2"),
        ("q=a+b%20c", "q=a%20b%20c"),
        ("k=%2B%zz%", "k=%2B%25zz%25"),
        ("%7E=~&%41=a", "A=a&~=~"),
    ] {
        assert_eq!(canonical_query(query), want, "{query:?}");
    }
}

/// Neither the secret key nor the session token shows in `Debug` or `Display` of what is public.
#[test]
fn secrets_stay_out_of_debug() {
    let secret = "s3cr3t-KEY-value";
    let token = "T0KEN-value";
    let p = SigningParams { secret_access_key: secret, session_token: Some(token), ..params("bedrock", None, T2015) };
    let shown = format!("{p:?} {p:#?}");
    assert!(!shown.contains(secret) && !shown.contains(token), "{shown}");
    assert!(shown.contains(AKID) && shown.contains("<redacted>"));
    let creds = TempCredentials {
        access_key_id: AKID.into(),
        secret_access_key: secret.into(),
        session_token: token.into(),
        expiration: T2015 + 3600,
        from_cache: false,
    };
    let shown = format!("{creds:?}");
    assert!(!shown.contains(secret) && !shown.contains(token), "{shown}");
    let errors = [
        SignError::NotAUrl,
        SignError::InsecureUrl,
        SignError::BadMethod,
        SignError::BadHeaderName,
        SignError::HostHeader,
        SignError::BadHeaderValue { name: "x".into() },
        SignError::DuplicateHeader { name: "x".into() },
        SignError::BadCredentials,
        SignError::BadScope,
        SignError::TimeOutOfRange,
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(shown.starts_with("sigv4: ") && !shown.contains(secret) && !shown.contains(token));
    }
    // A refused token is not repeated in the error.
    let mut req = OutboundRequest::get("https://example.amazonaws.com/");
    let bad = SigningParams { session_token: Some("T0KEN\nvalue"), ..p };
    let e = sign(&mut req, &bad).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("T0KEN"));
}

/// `TempCredentials::sign` signs with the session token.
#[test]
fn temp_credentials_sign() {
    let creds = TempCredentials {
        access_key_id: AKID.into(),
        secret_access_key: SECRET.into(),
        session_token: C_AUTH_TOKEN.into(),
        expiration: T2015 + 3600,
        from_cache: true,
    };
    let mut req = OutboundRequest::get("https://example.amazonaws.com/");
    creds.sign(&mut req, "us-east-1", "service", T2015).unwrap();
    let mut same = OutboundRequest::get("https://example.amazonaws.com/");
    sign(&mut same, &params("service", Some(C_AUTH_TOKEN), T2015)).unwrap();
    assert_eq!(req, same);
    assert_eq!(header(&req, "x-amz-security-token"), Some(creds.session_token.as_str()));
    assert!(header(&req, "authorization")
        .unwrap()
        .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"));
    assert_eq!(creds.sign(&mut req, "us-east-1", "ser/vice", T2015), Err(SignError::BadScope));
}

proptest::proptest! {
    /// Whatever the URL, method, headers and body, signing answers without panicking, and on
    /// success the Authorization header is the last one.
    #[test]
    fn never_panics(
        url in "(https?://)?[a-z0-9.:@/?#%&=+ \\[\\]\u{0}-\u{20}\u{7f}é-]{0,40}",
        method in "[A-Za-z \n]{0,8}",
        headers in proptest::collection::vec(("[A-Za-z0-9 :\r\n-]{0,8}", "[ -~\t\r\né]{0,12}"), 0..4),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
    ) {
        let mut req = OutboundRequest { method, url, headers, body: Some(body), ..Default::default() };
        if sign(&mut req, &params("service", Some("tok"), T2015)).is_ok() {
            proptest::prop_assert_eq!(req.headers.last().map(|(n, _)| n.as_str()), Some("authorization"));
        }
    }
}
