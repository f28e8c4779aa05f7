// Hosts: the machines to install on (typed one by one or pasted as a range) and how to reach them over SSH. The SSH
// and sudo passwords are asked here, masked, and handed on in memory only.
import { useRef, useState, type ReactNode } from "react";
import { Box } from "ink";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { KeyFileChecker } from "../../inventory/load.js";
import type { AuthMethod, BastionSpec, HostSpec, SudoSetting } from "../../inventory/types.js";
import { parseHostEntries } from "../hostEntry.js";
import { T, useTerm } from "../theme.js";
import { col, Frame, FRAME_ROWS, LineInput, Select, Window, type Line, useKeys } from "../widgets.js";

/** The SSH and sudo passwords typed here (null when not used); never stored. */
export interface HostSecrets {
  sshPassword: string | null;
  sudoPassword: string | null;
}

/** Props: the hosts so far (from a loaded omstack.yaml or an earlier visit), the key checker, and the env for the agent socket. */
export interface HostsProps {
  hosts: HostSpec[];
  checkKey: KeyFileChecker;
  agentSocket: string | null;
  onNext: (hosts: HostSpec[], secrets: HostSecrets) => void;
  onBack?: () => void;
}

type Phase = "list" | "user" | "auth" | "key" | "password" | "sudo" | "sudoPassword" | "bastion";
type AuthKind = AuthMethod["kind"];

function expand(p: string): string {
  if (p === "~" || p.startsWith("~/")) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(p);
}

function authLabel(a: AuthMethod): string {
  return a.kind === "key" ? `key ${a.identityFile.replace(homedir(), "~")}` : a.kind === "agent" ? "ssh-agent" : "password";
}

/** Parses `user@host[:port]`; null with a reason when malformed. */
export function parseBastion(text: string, auth: AuthMethod): BastionSpec | string {
  const m = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return `"${text}" is not user@host[:port]`;
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) return `port ${port} is not 1-65535`;
  return { address: m[2]!.replace(/^\[|\]$/g, ""), port, user: m[1] ?? "root", auth };
}

/** The Hosts screen. */
export function Hosts(props: HostsProps): ReactNode {
  const term = useTerm();
  const first = props.hosts[0];
  const [hosts, setHostsState] = useState<HostSpec[]>(props.hosts);
  // a pasted block submits several lines before React re-renders: read and write the list through a ref
  const hostsRef = useRef(props.hosts);
  const setHosts = (h: HostSpec[]) => {
    hostsRef.current = h;
    setHostsState(h);
  };
  const [phase, setPhase] = useState<Phase>("list");
  const [error, setError] = useState<string | null>(null);
  const [user, setUser] = useState(first?.user ?? "root");
  const [authKind, setAuthKind] = useState<AuthKind>(first?.auth.kind ?? "key");
  const [auth, setAuth] = useState<AuthMethod | null>(first?.auth ?? null);
  const [sshPassword, setSshPassword] = useState<string | null>(null);
  const [sudo, setSudo] = useState<SudoSetting>(first?.sudo ?? { enabled: false });
  const [sudoPassword, setSudoPassword] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  useKeys((_input, key) => {
    if (key.escape) {
      setError(null);
      const back: Partial<Record<Phase, Phase>> = { user: "list", auth: "user", key: "auth", password: "auth", sudo: "auth", sudoPassword: "sudo", bastion: "sudo" };
      const to = back[phase];
      if (to) setPhase(to);
      else props.onBack?.();
    }
  });

  const blank = (entry: { name: string; address: string }): HostSpec => ({
    name: entry.name,
    address: entry.address,
    port: 22,
    user,
    auth: auth ?? { kind: "agent", socket: props.agentSocket },
    sudo,
    bastion: null,
    roles: [],
    labels: {},
    wipe: [],
  });

  const submitEntry = (text: string) => {
    const hosts = hostsRef.current;
    const t = text.trim();
    if (t === "") {
      if (hosts.length === 0) setError("add at least one host first");
      else (setError(null), setPhase("user"));
      return;
    }
    if (t.startsWith("-")) {
      const name = t.slice(1).trim();
      if (!hosts.some((h) => h.name === name)) return setError(`no host named ${name} in the list`);
      setHosts(hosts.filter((h) => h.name !== name));
      return setError(null);
    }
    const parsed = parseHostEntries(t, hosts);
    if ("error" in parsed) return setError(parsed.error);
    setHosts([...hosts, ...parsed.hosts.map(blank)]);
    setError(null);
  };

  const afterAuth = (a: AuthMethod) => {
    setAuth(a);
    setPhase(user === "root" ? "bastion" : "sudo");
  };

  const finish = (bastionText: string) => {
    const a = auth!;
    let bastion: BastionSpec | null = null;
    if (bastionText.trim() !== "") {
      const b = parseBastion(bastionText, a);
      if (typeof b === "string") return setError(b);
      bastion = b;
    }
    const s: SudoSetting = user === "root" ? { enabled: false } : sudo;
    const done = hosts.map((h) => ({ ...h, user, auth: a, sudo: s, bastion }));
    props.onNext(done, { sshPassword: a.kind === "password" ? sshPassword : null, sudoPassword: s.enabled && s.askPassword ? sudoPassword : null });
  };

  const tableHeight = term.rows - FRAME_ROWS - 7;
  // the SSH settings shown are the ones Enter will apply to every host (not the placeholder a new host starts with)
  const lines: Line[] = hosts.map((h) => ({
    text: `  ${col(h.name, 18)} ${col(h.address, 17)} ${col(user, 8)} ${col(auth ? authLabel(auth) : "(asked next)", 22)} ${user !== "root" && sudo.enabled ? "sudo" : ""}`,
  }));
  const prompt = (label: string, node: ReactNode) => (
    <Box>
      <T max={Math.min(40, term.columns)}>{label}</T>
      {node}
    </Box>
  );

  let body: ReactNode;
  if (phase === "list") {
    body = (
      <Box flexDirection="column">
        {prompt(`Add host(s) [${hosts.length} so far]: `, <LineInput clearOnSubmit placeholder="10.0.0.11-18, gpu-01=10.0.0.21, db.example" onSubmit={submitEntry} />)}
        <T tone="dim">{"A range 10.0.0.11-18 adds 8 hosts; name=address names one; -name removes one."}</T>
      </Box>
    );
  } else if (phase === "user") {
    body = prompt("SSH user for all hosts: ", <LineInput initial={user} onSubmit={(v) => (v.trim() ? (setUser(v.trim()), setPhase("auth")) : setError("the user cannot be empty"))} />);
  } else if (phase === "auth") {
    body = (
      <Box flexDirection="column">
        <T>{`How does ${user} log in?`}</T>
        <Select
          initial={["key", "agent", "password"].indexOf(authKind)}
          items={[
            { label: "a private key file", value: "key" as const },
            { label: "the running ssh-agent", value: "agent" as const },
            { label: "a password (asked now, never stored)", value: "password" as const },
          ]}
          onSelect={(k) => {
            setAuthKind(k);
            if (k === "agent") {
              if (!props.agentSocket) return setError("no ssh-agent is running here (SSH_AUTH_SOCK is empty): choose a key file or a password");
              setError(null);
              afterAuth({ kind: "agent", socket: props.agentSocket });
            } else setPhase(k);
          }}
        />
      </Box>
    );
  } else if (phase === "key") {
    body = prompt(
      "Private key file: ",
      <LineInput
        initial={auth?.kind === "key" ? auth.identityFile : "~/.ssh/id_ed25519"}
        onSubmit={(v) => {
          const path = expand(v.trim());
          setChecking(true);
          void props.checkKey(path).then((reason) => {
            setChecking(false);
            if (reason) return setError(`SSH key ${path} cannot be used: ${reason}`);
            setError(null);
            afterAuth({ kind: "key", identityFile: path });
          });
        }}
      />,
    );
  } else if (phase === "password") {
    body = prompt(`Password of ${user} (hidden): `, <LineInput mask clearOnSubmit onSubmit={(v) => (v === "" ? setError("the password is empty") : (setSshPassword(v), setError(null), afterAuth({ kind: "password" })))} />);
  } else if (phase === "sudo") {
    body = (
      <Box flexDirection="column">
        <T>{`${user} is not root: how does it become root?`}</T>
        <Select
          items={[
            { label: "sudo without a password", value: "nopasswd" as const },
            { label: "sudo with a password (asked now, never stored)", value: "ask" as const },
          ]}
          onSelect={(v) => (v === "ask" ? (setSudo({ enabled: true, askPassword: true }), setPhase("sudoPassword")) : (setSudo({ enabled: true, askPassword: false }), setPhase("bastion")))}
        />
      </Box>
    );
  } else if (phase === "sudoPassword") {
    body = prompt(`sudo password of ${user} (hidden): `, <LineInput mask clearOnSubmit onSubmit={(v) => (v === "" ? setError("the password is empty") : (setSudoPassword(v), setError(null), setPhase("bastion")))} />);
  } else {
    body = (
      <Box flexDirection="column">
        {prompt("Bastion (jump host): ", <LineInput placeholder="none; or user@host[:port]" initial={first?.bastion ? `${first.bastion.user}@${first.bastion.address}:${first.bastion.port}` : ""} onSubmit={finish} />)}
        <T tone="dim">Leave empty when this machine reaches the hosts directly.</T>
      </Box>
    );
  }

  const hints = phase === "list" ? ["Enter add", "Enter on empty line: continue", "Esc back", "Ctrl-C quit"] : ["Enter confirm", "Esc back", "Ctrl-C quit"];
  return (
    <Frame step="Hosts" hints={hints}>
      <T bold>{`  ${col("NAME", 18)} ${col("ADDRESS", 17)} ${col("USER", 8)} ${col("LOGIN", 22)} SUDO`}</T>
      {hosts.length === 0 ? <T tone="dim">  (none yet)</T> : <Window lines={lines} height={Math.max(1, tableHeight)} focus={lines.length - 1} />}
      <Box height={1} />
      {body}
      {checking ? <T tone="dim">checking the key file ...</T> : error ? <T tone="bad" wrap>{error}</T> : null}
    </Frame>
  );
}
