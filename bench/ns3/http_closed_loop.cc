/*
 * http_closed_loop.cc - the ns-3 reference point for the simulator's speed.
 *
 * `make bench` runs this beside our own benchmarks so that simulated packets per wall-clock
 * second are measured side by side on the same machine. It is the simplest scenario that does
 * the same kind of work as a handoff run: many persistent TCP connections carrying closed-loop
 * HTTP-like transactions over one 10 Gb/s link. It has no CPU, NIC or cache model, so ns-3 does
 * strictly less modelling per packet than our simulator.
 *
 *   two nodes (client machine, server) joined by one point-to-point link, 10 Gb/s, 1 us delay;
 *   N clients (default 2048), each with one persistent TCP connection to the server's port 80;
 *   each client sends a request (default 100 bytes) and sends the next one only when the whole
 *   response (default 5000 bytes, the size announced as by Content-Length) has arrived;
 *   the server answers each complete request with one response;
 *   the run stops when P packets (default 1,000,000) have crossed the link, both directions
 *   counted at the receiving device (PhyRxEnd), handshakes included.
 *
 * TCP is ns-3's default (NewReno, delayed ACKs, timestamps, window scaling) with a 1448-byte
 * segment, as on an Ethernet with timestamps. Clients start at seeded uniform times within the
 * first millisecond, so the run is deterministic for a seed. The device queues are large enough
 * for every connection's whole response to wait at once (a closed loop with no think time parks
 * its clients in the bottleneck queue), so nothing is dropped and every packet is useful work;
 * the run checks this and reports drops if any.
 *
 * Printed: the configuration as ns-3 reports it back (link rate and delay read from the device
 * and channel), packets, transactions completed, simulated seconds, the server-to-client link
 * utilisation, the most requests ever outstanding at once (at most one per client: the loop is
 * closed), wall seconds of Simulator::Run alone and packets per wall second, and peak memory.
 *
 * Build (the Makefile's bench target does this):
 *   g++ -O2 -std=c++17 bench/ns3/http_closed_loop.cc $(pkg-config --cflags --libs ns3-core \
 *       ns3-network ns3-internet ns3-point-to-point ns3-applications) -o ns3_http_closed_loop
 * Options: --clients=N --packets=P --request=BYTES --response=BYTES --seed=S (see --help).
 */
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

using namespace ns3;

#ifndef NS3_VERSION
#define NS3_VERSION "(version unknown)" /* the Makefile passes pkg-config's version */
#endif

namespace
{

/* What the whole run counts; one instance, owned by main. */
struct Totals {
    uint64_t packets = 0;          /* packets received by either device */
    uint64_t target = 0;           /* stop when packets reaches this */
    uint64_t to_client_bytes = 0;  /* bytes the client machine's device received */
    uint64_t transactions = 0;     /* responses completely received */
    uint64_t outstanding = 0;      /* requests sent and not yet fully answered */
    uint64_t max_outstanding = 0;  /* the most at once */
    uint64_t drops = 0;            /* packets dropped by a device queue or the channel */
    uint64_t connect_failures = 0; /* connections refused or failed */
};

/* One closed-loop client: a persistent connection, one request at a time. */
class HttpClient : public Application
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid =
            TypeId("HandoffBenchHttpClient").SetParent<Application>().SetGroupName("Applications");
        return tid;
    }

    void Setup(Address server, uint32_t request, uint32_t response, Totals *totals)
    {
        m_server = server;
        m_request = request;
        m_response = response;
        m_totals = totals;
    }

  private:
    void StartApplication() override
    {
        m_socket = Socket::CreateSocket(GetNode(), TcpSocketFactory::GetTypeId());
        m_socket->Bind();
        m_socket->SetConnectCallback(MakeCallback(&HttpClient::Connected, this),
                                     MakeCallback(&HttpClient::ConnectFailed, this));
        m_socket->SetRecvCallback(MakeCallback(&HttpClient::Receive, this));
        m_socket->Connect(m_server);
    }

    void StopApplication() override
    {
        if (m_socket) {
            m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        }
    }

    void Connected(Ptr<Socket>)
    {
        SendRequest();
    }

    void ConnectFailed(Ptr<Socket>)
    {
        m_totals->connect_failures++;
    }

    void SendRequest()
    {
        NS_ABORT_MSG_IF(m_waiting, "a client sent a request with one outstanding");
        m_waiting = true;
        m_received = 0;
        m_totals->outstanding++;
        if (m_totals->outstanding > m_totals->max_outstanding) {
            m_totals->max_outstanding = m_totals->outstanding;
        }
        int sent = m_socket->Send(Create<Packet>(m_request));
        NS_ABORT_MSG_IF(sent != static_cast<int>(m_request), "request did not fit the buffer");
    }

    void Receive(Ptr<Socket> socket)
    {
        while (Ptr<Packet> p = socket->Recv()) {
            m_received += p->GetSize();
        }
        NS_ABORT_MSG_IF(m_received > m_response, "more response bytes than were asked for");
        if (m_waiting && m_received == m_response) {
            m_waiting = false;
            m_totals->outstanding--;
            m_totals->transactions++;
            SendRequest();
        }
    }

    Ptr<Socket> m_socket;
    Address m_server;
    uint32_t m_request = 0;
    uint32_t m_response = 0;
    uint64_t m_received = 0;
    bool m_waiting = false;
    Totals *m_totals = nullptr;
};

/* The server: answers every complete request on a connection with one response. */
class HttpServer : public Application
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid =
            TypeId("HandoffBenchHttpServer").SetParent<Application>().SetGroupName("Applications");
        return tid;
    }

    void Setup(uint16_t port, uint32_t request, uint32_t response)
    {
        m_port = port;
        m_request = request;
        m_response = response;
    }

  private:
    void StartApplication() override
    {
        m_listener = Socket::CreateSocket(GetNode(), TcpSocketFactory::GetTypeId());
        m_listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), m_port));
        m_listener->Listen();
        m_listener->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address &>(),
                                      MakeCallback(&HttpServer::Accept, this));
    }

    void StopApplication() override
    {
        for (auto &c : m_pending) {
            c.first->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        }
    }

    void Accept(Ptr<Socket> s, const Address &)
    {
        m_pending[s] = 0;
        s->SetRecvCallback(MakeCallback(&HttpServer::Receive, this));
    }

    void Receive(Ptr<Socket> s)
    {
        uint64_t &have = m_pending[s];
        while (Ptr<Packet> p = s->Recv()) {
            have += p->GetSize();
        }
        while (have >= m_request) {
            have -= m_request;
            int sent = s->Send(Create<Packet>(m_response));
            NS_ABORT_MSG_IF(sent != static_cast<int>(m_response),
                            "response did not fit the buffer");
        }
    }

    Ptr<Socket> m_listener;
    std::map<Ptr<Socket>, uint64_t> m_pending; /* request bytes received and not yet answered */
    uint16_t m_port = 0;
    uint32_t m_request = 0;
    uint32_t m_response = 0;
};

void CountRx(Totals *t, bool to_client, Ptr<const Packet> p)
{
    t->packets++;
    if (to_client) {
        t->to_client_bytes += p->GetSize(); /* the frame as serialised, PPP header too */
    }
    if (t->packets == t->target) {
        Simulator::Stop();
    }
}

void CountDrop(Totals *t, Ptr<const Packet>)
{
    t->drops++;
}

double PeakRssMiB()
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0; /* Linux: kilobytes */
}

} // namespace

int main(int argc, char **argv)
{
    uint32_t clients = 2048;
    uint64_t packets = 1000000;
    uint32_t request = 100;
    uint32_t response = 5000;
    uint32_t seed = 1;
    CommandLine cmd(__FILE__);
    cmd.AddValue("clients", "closed-loop clients, one persistent connection each", clients);
    cmd.AddValue("packets", "stop when this many packets have crossed the link", packets);
    cmd.AddValue("request", "request size in bytes", request);
    cmd.AddValue("response", "response size in bytes", response);
    cmd.AddValue("seed", "seed of the start times", seed);
    cmd.Parse(argc, argv);
    if (clients == 0 || clients > 16000 || packets == 0 || request == 0 || response == 0) {
        std::fprintf(stderr, "bad arguments: clients 1..16000 (one ephemeral port each), "
                             "packets, request and response > 0\n");
        return 2;
    }

    auto setup_start = std::chrono::steady_clock::now();
    RngSeedManager::SetSeed(seed);
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    /* Room for a whole response per connection, so the closed loop never blocks on buffers. */
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(1 << 17));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(1 << 17));

    NodeContainer nodes;
    nodes.Create(2); /* 0: the client machine, 1: the server */
    PointToPointHelper link;
    link.SetDeviceAttribute("DataRate", StringValue("10Gbps"));
    link.SetChannelAttribute("Delay", StringValue("1us"));
    /* Every connection's response may wait in the server's queue at once: four 1448-byte
     * segments of a 5000-byte response each, and more for larger responses. */
    uint64_t queue = static_cast<uint64_t>(clients) * (response / 1448 + 2) + 1000;
    link.SetQueue("ns3::DropTailQueue", "MaxSize",
                  QueueSizeValue(QueueSize(std::to_string(queue) + "p")));
    NetDeviceContainer devs = link.Install(nodes);

    InternetStackHelper stack;
    stack.Install(nodes);
    Ipv4AddressHelper addr;
    addr.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifs = addr.Assign(devs);

    Totals totals;
    totals.target = packets;
    const uint16_t port = 80;
    Ptr<HttpServer> server = CreateObject<HttpServer>();
    server->Setup(port, request, response);
    nodes.Get(1)->AddApplication(server);
    server->SetStartTime(Seconds(0));

    Ptr<UniformRandomVariable> start = CreateObject<UniformRandomVariable>();
    start->SetStream(1);
    Address server_addr = InetSocketAddress(ifs.GetAddress(1), port);
    for (uint32_t i = 0; i < clients; i++) {
        Ptr<HttpClient> c = CreateObject<HttpClient>();
        c->Setup(server_addr, request, response, &totals);
        nodes.Get(0)->AddApplication(c);
        c->SetStartTime(NanoSeconds(1000 + static_cast<int64_t>(start->GetValue(0, 1e6))));
    }

    for (uint32_t d = 0; d < 2; d++) {
        Ptr<PointToPointNetDevice> dev = DynamicCast<PointToPointNetDevice>(devs.Get(d));
        dev->TraceConnectWithoutContext("PhyRxEnd", MakeBoundCallback(&CountRx, &totals, d == 0));
        dev->TraceConnectWithoutContext("PhyRxDrop", MakeBoundCallback(&CountDrop, &totals));
        dev->GetQueue()->TraceConnectWithoutContext("Drop", MakeBoundCallback(&CountDrop, &totals));
    }

    /* Read the link back from the objects, to show what was really simulated. */
    DataRateValue rate;
    devs.Get(0)->GetAttribute("DataRate", rate);
    TimeValue delay;
    devs.Get(0)->GetChannel()->GetAttribute("Delay", delay);

    /* A generous bound on simulated time in case the loop stalls (it should stop on packets). */
    Simulator::Stop(Seconds(60));
    auto run_start = std::chrono::steady_clock::now();
    Simulator::Run();
    auto run_end = std::chrono::steady_clock::now();
    double sim_s = Simulator::Now().GetSeconds();
    Simulator::Destroy();

    double setup_wall = std::chrono::duration<double>(run_start - setup_start).count();
    double run_wall = std::chrono::duration<double>(run_end - run_start).count();
    double rate_bps = static_cast<double>(rate.Get().GetBitRate());
    std::printf("ns-3 %s closed-loop HTTP: %u clients, %u-byte requests, %u-byte responses, "
                "link %.0f Gb/s, delay %.0f us, queue %llu packets\n",
                NS3_VERSION, clients, request, response, rate_bps / 1e9,
                delay.Get().GetMicroSeconds() * 1.0, static_cast<unsigned long long>(queue));
    std::printf("  packets %llu  transactions %llu  simulated %.6f s  server->client link "
                "%.1f %% busy\n",
                static_cast<unsigned long long>(totals.packets),
                static_cast<unsigned long long>(totals.transactions), sim_s,
                sim_s > 0 ? 100.0 * totals.to_client_bytes * 8 / (rate_bps * sim_s) : 0.0);
    std::printf("  most requests outstanding %llu (of %u clients)  drops %llu  connect failures "
                "%llu\n",
                static_cast<unsigned long long>(totals.max_outstanding), clients,
                static_cast<unsigned long long>(totals.drops),
                static_cast<unsigned long long>(totals.connect_failures));
    std::printf(
        "  wall %.2f s (setup %.2f s)  %.0f packets per wall second  peak memory %.0f MiB\n",
        run_wall, setup_wall, totals.packets / run_wall, PeakRssMiB());
    if (totals.packets < packets || totals.drops != 0 || totals.connect_failures != 0) {
        std::printf("  !! the run did not reach its packet count cleanly\n");
        return 1;
    }
    return 0;
}
