//! A real moto server (the AWS emulator) on a free port, with the environment and
//! SDK configuration that point clients at it.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's own server, with its threads turned off (see [`Moto::start_serialized`]).
const SERIALIZED_MOTO: &str = "import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
";

/// A moto server process; killed on drop.
#[derive(Debug)]
pub struct Moto {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether it answers one request at a time.
    serialized: bool,
}

impl Moto {
    /// Starts moto on a free port.
    pub fn start() -> Moto {
        let mut moto = Moto {
            child: None,
            port: crate::free_port(),
            serialized: false,
        };
        moto.restart();
        moto
    }

    /// Stops the server (all its data is lost, as with a real outage plus a restore).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts moto on a free port, answering one request at a time. moto applies a
    /// conditional update as a read, a check and a write without a lock, so two
    /// requests at once can both pass one condition; DynamoDB applies each
    /// atomically. Tests whose outcome rests on that (bidders racing for the same
    /// budget) run moto this way, so its conditional updates are atomic too.
    pub fn start_serialized() -> Moto {
        let mut moto = Moto {
            child: None,
            port: crate::free_port(),
            serialized: true,
        };
        moto.restart();
        moto
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let mut command = if self.serialized {
            let mut python = Command::new("python3");
            python.args(["-c", SERIALIZED_MOTO, &port]);
            python
        } else {
            let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
            let mut server = Command::new(program);
            server.args(["-H", "127.0.0.1", "-p", &port]);
            server
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server and python3 with moto on PATH (scripts/test.sh installs them)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A runtime and an AWS configuration pointing at this moto, for the tests' own
    /// SDK clients.
    pub fn sdk_config(&self) -> (tokio::runtime::Runtime, aws_config::SdkConfig) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shared = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(format!("http://127.0.0.1:{}", self.port))
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "test", "test", None, None, "tests",
                ))
                .load(),
        );
        (runtime, shared)
    }

    /// Environment that points AWS clients (the bidder's and the tests') at moto.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}
