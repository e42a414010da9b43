//! A real `redis-server` on a free port, with a minimal client for the tests to look
//! inside it and to make it slow.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A certificate authority and a server certificate it signed (for `localhost` and
/// 127.0.0.1), as PEM files in a temporary directory.
pub struct TlsFiles {
    _dir: tempfile::TempDir,
    /// The CA certificate a client must trust.
    pub ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl TlsFiles {
    /// A fresh CA and server certificate.
    pub fn generate() -> TlsFiles {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_cert = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        TlsFiles {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", server_cert.pem()),
            key: write("server.key", server_key.serialize_pem()),
            _dir: dir,
        }
    }
}

/// A redis-server process; killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    /// Its plain-TCP port on 127.0.0.1 (the tests' own client uses it).
    pub port: u16,
    /// Its TLS port and certificates, when started with TLS.
    tls: Option<(u16, TlsFiles)>,
    /// Where it keeps its cluster state, when started as a cluster node.
    cluster_dir: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// Starts redis-server on a free port, without persistence.
    pub fn start() -> RedisServer {
        RedisServer::launch(None, None)
    }

    /// Like [`RedisServer::start`], in cluster mode, owning no slots yet.
    fn start_cluster_node() -> RedisServer {
        RedisServer::launch(None, Some(tempfile::tempdir().unwrap()))
    }

    /// Like [`RedisServer::start`], with a TLS port as well (clients need not
    /// present certificates, as with ElastiCache).
    pub fn start_tls() -> RedisServer {
        RedisServer::launch(Some((super::free_port(), TlsFiles::generate())), None)
    }

    fn launch(tls: Option<(u16, TlsFiles)>, cluster_dir: Option<tempfile::TempDir>) -> RedisServer {
        let mut server = RedisServer {
            child: None,
            port: super::free_port(),
            tls,
            cluster_dir,
        };
        server.restart();
        server
    }

    /// `host:port` of the TLS port.
    pub fn tls_addr(&self) -> String {
        let (port, _) = self.tls.as_ref().expect("started with TLS");
        format!("127.0.0.1:{port}")
    }

    /// The CA file that signed the server's certificate.
    pub fn tls_ca_file(&self) -> &std::path::Path {
        &self.tls.as_ref().expect("started with TLS").1.ca
    }

    /// Stops the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new("redis-server");
        command.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"]);
        if let Some(dir) = &self.cluster_dir {
            command
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .arg("--cluster-config-file")
                .arg(dir.path().join("nodes.conf"));
        }
        if let Some((port, files)) = &self.tls {
            command
                .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
                .arg("--tls-cert-file")
                .arg(&files.cert)
                .arg("--tls-key-file")
                .arg(&files.key)
                .arg("--tls-ca-cert-file")
                .arg(&files.ca);
        }
        let child = command
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "local",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/test.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(redis::Value::SimpleString(pong)) = self.try_command(&["PING"])
                && pong == "PONG"
            {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `host:port` for the bidder's config.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs one command and returns its reply.
    pub fn command(&self, args: &[&str]) -> redis::Value {
        self.try_command(args).expect("redis command")
    }

    fn try_command(&self, args: &[&str]) -> std::io::Result<redis::Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        stream.write_all(&cmd.get_packed_command())?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
            match redis::parse_redis_value(&buf) {
                Ok(value) => return Ok(value),
                Err(e) if e.is_io_error() => {}
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
    }

    /// The frequency-cap counter keys of `campaign` (`fc:{<user>}:<campaign>`).
    pub fn cap_counter_keys(&self, campaign: &str) -> Vec<String> {
        let keys = match self.command(&["KEYS", "fc:*"]) {
            redis::Value::Array(keys) => keys,
            other => panic!("{other:?}"),
        };
        let suffix = format!("}}:{campaign}");
        keys.iter()
            .map(|k| match k {
                redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                other => panic!("{other:?}"),
            })
            .filter(|k| k.ends_with(&suffix))
            .collect()
    }

    /// How many times `command` (e.g. `mget`) ran, from `INFO commandstats`.
    pub fn calls(&self, command: &str) -> u64 {
        let text = match self.command(&["INFO", "commandstats"]) {
            redis::Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            redis::Value::VerbatimString { text, .. } => text,
            other => panic!("INFO answered {other:?}"),
        };
        parse_calls(&text, command)
    }

    /// Blocks the server for `seconds` (DEBUG SLEEP), from a background thread.
    pub fn sleep_in_background(&self, seconds: f64) -> std::thread::JoinHandle<()> {
        let port = self.port;
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let packed = redis::cmd("DEBUG")
                .arg("SLEEP")
                .arg(seconds)
                .get_packed_command();
            stream.write_all(&packed).unwrap();
            let mut reply = [0u8; 64];
            let _ = stream.read(&mut reply);
        })
    }
}

/// Three redis-server processes forming a Redis Cluster without replicas, the hash
/// slots split evenly between them.
pub struct RedisCluster {
    /// The nodes; node `i` serves the `i`-th third of the slots.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the nodes, assigns the slots, joins them, and waits for the cluster.
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3).map(|_| RedisServer::start_cluster_node()).collect();
        for (node, (first, last)) in nodes.iter().zip([(0, 5460), (5461, 10922), (10923, 16383)]) {
            let (first, last) = (first.to_string(), last.to_string());
            node.command(&["CLUSTER", "ADDSLOTSRANGE", &first, &last]);
        }
        for node in &nodes[1..] {
            nodes[0].command(&["CLUSTER", "MEET", "127.0.0.1", &node.port.to_string()]);
        }
        let formed = super::eventually(Duration::from_secs(30), || {
            nodes.iter().all(RedisServer::cluster_ok)
        });
        assert!(formed, "the cluster did not form");
        RedisCluster { nodes }
    }
}

impl RedisCluster {
    /// The hash slot of `key`.
    pub fn slot_of(&self, key: &str) -> u16 {
        match self.nodes[0].command(&["CLUSTER", "KEYSLOT", key]) {
            redis::Value::Int(slot) => u16::try_from(slot).expect("a slot"),
            other => panic!("KEYSLOT answered {other:?}"),
        }
    }

    /// Starts moving `slot` from node `owner` to node `target`, as resharding
    /// does (`IMPORTING` on the target, then `MIGRATING` on the owner): the owner
    /// answers `ASK` for keys it no longer holds.
    pub fn start_migrating(&self, slot: u16, owner: usize, target: usize) {
        let id = |i: usize| match self.nodes[i].command(&["CLUSTER", "MYID"]) {
            redis::Value::BulkString(bytes) => String::from_utf8(bytes).unwrap(),
            other => panic!("MYID answered {other:?}"),
        };
        let slot = slot.to_string();
        let importing = ["CLUSTER", "SETSLOT", &slot, "IMPORTING", &id(owner)];
        assert_eq!(self.nodes[target].command(&importing), redis::Value::Okay);
        let migrating = ["CLUSTER", "SETSLOT", &slot, "MIGRATING", &id(target)];
        assert_eq!(self.nodes[owner].command(&migrating), redis::Value::Okay);
    }
}

impl RedisServer {
    /// Whether this node sees the whole cluster up and every slot served.
    fn cluster_ok(&self) -> bool {
        let info = match self.command(&["CLUSTER", "INFO"]) {
            redis::Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            redis::Value::VerbatimString { text, .. } => text,
            _ => return false,
        };
        info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
    }
}

fn parse_calls(info: &str, command: &str) -> u64 {
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
