#!/usr/bin/env python3
"""The README demo's hub part: a fan reaches `fanline serve` over HTTP, is offered the
creator, accepts, and sees the creator's answer arrive on the conversation's event
stream while the creator answers from the command line (another process).

    hub-demo.py BASE_URL SITE_KEY FANLINE_BINARY

Standard library only."""
import json, subprocess, sys, threading, urllib.request, uuid

base, site, fanline = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")


status, s = call("POST", "/v1/sessions", {"site_key": site})
token, conv = s["fan_token"], s["conversation_id"]
print(f"── a fan opens a session: HTTP {status}, conversation {conv}, tier {s['fan']['tier']}")

question = "Would you read from your next book at our library in Lyon this winter?"
key = str(uuid.uuid4())
status, posted = call("POST", f"/v1/conversations/{conv}/messages", {"text": question}, token, {"Idempotency-Key": key})
d = posted["decision"]
print(f"── the fan asks over HTTP: {question}\nHTTP {status} path {d['path']}\n   {d['reply']}")
status, again = call("POST", f"/v1/conversations/{conv}/messages", {"text": question}, token, {"Idempotency-Key": key})
print(f"── the same request retried (same Idempotency-Key): HTTP {status} {again['status']}, decision {again['decision']['decision_id']} again")
if d["path"] == "C":
    print(f"── asked before: served from the creator's earlier answer (— {d['answer']['by']})")
    sys.exit(0)
offer = (d.get("offer") or {}).get("escalation_id")
if not offer:
    sys.exit("the question was not offered to the creator")
status, acc = call("POST", f"/v1/escalations/{offer}/accept", {}, token)
print(f"── the fan accepts offer #{offer}: HTTP {status} {acc['offer']['status']}\n   {acc['reply']}")

# The fan's event stream, resumed after the acceptance's reply.
events, opened = [], threading.Event()


def listen():
    req = urllib.request.Request(base + f"/v1/conversations/{conv}/events")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Last-Event-ID", str(d["reply_message_id"]))
    with urllib.request.urlopen(req, timeout=60) as r:
        opened.set()
        name = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:") and name:
                events.append((name, json.loads(line[5:])))
                if name == "escalation.answered":
                    return


t = threading.Thread(target=listen, daemon=True)
t.start()
opened.wait(10)
answer = "Yes, gladly: write to me through the contact form with the dates."
print(f"── the creator answers from another process: fanline queue answer {offer}")
subprocess.run([fanline, "queue", "answer", str(offer), "--text", answer], check=True, stdout=subprocess.DEVNULL)
t.join(30)
got = [e for e in events if e[0] == "escalation.answered"]
if not got:
    sys.exit("the creator's answer did not reach the fan's event stream")
print(f"── the fan's event stream: escalation.answered — {got[0][1]['body']}")
