# A Rails app's database traffic for tests/real_clients_rails.rs: ActiveRecord 6.1 on the pg
# adapter, configured the way a Rails app is from what poolstack renders: the .env's variables in
# the environment (as dotenv or the deployment puts them), then the rendered database.yml as
# config/database.yml, read as Rails reads it (ERB, then YAML; DATABASE_URL's query keys merged
# over the entry, RAILS_MAX_THREADS as the pool).
#
# usage: ruby workload.rb queries|migrate ENV_FILE [NAME=VALUE ...]
#   database.yml is read from ENV_FILE's directory, where `poolstack render` writes both.
#   NAME in capitals replaces that .env variable (`DATABASE_URL=...`); a lowercase NAME sets that
#   query key of DATABASE_URL (`prepared_statements=true`), as a user editing the .env would.
#   ${VAR} references (the password) are expanded from this process's environment, URL-encoded.
#
# queries: WEB_CONCURRENCY forked workers (Puma's cluster mode), each with RAILS_MAX_THREADS
#   threads serving requests; a request runs one of three parameterised model queries (prepared as
#   `a1`, `a2`… when prepared_statements is on) and checks the rows it gets.
# migrate: `db:migrate` of one new migration (ActiveRecord::MigrationContext), while requests of
#   the same app are in flight, each inside an open transaction (so the migrator's advisory lock
#   and its release are not served by the same idle server connection behind PgBouncer).
#
# Prints one JSON object: {"ok", "errors", "first_error", "errors_seen" (distinct messages, at
# most 50), and what the adapter made of the configuration: "prepared_statements",
# "advisory_locks", "pool", "checkout_timeout", "idle_timeout" (seconds), "processes"}.

require "erb"
require "json"
require "tmpdir"
require "active_record"
require "active_support/configuration_file"

module Workload
  ROUNDS = 60
  ROWS = 100
  REQUESTS_IN_FLIGHT = 3
  # Distinct error messages kept.
  SEEN = 50

  module_function

  def read_env(path, overrides)
    env = {}
    File.foreach(path) do |line|
      line = line.strip
      next if line.empty? || line.start_with?("#") || !line.include?("=")

      name, value = line.split("=", 2)
      env[name] = value
    end
    overrides.each do |name, value|
      if name.match?(/\A[A-Z][A-Z0-9_]*\z/)
        env[name] = value
      else
        env["DATABASE_URL"] = with_query_key(env.fetch("DATABASE_URL"), name, value)
      end
    end
    env.transform_values do |v|
      v.gsub(/\$\{(\w+)\}/) { ERB::Util.url_encode(ENV.fetch(Regexp.last_match(1), "")) }
    end
  end

  def with_query_key(url, key, value)
    base, query = url.split("?", 2)
    pairs = (query || "").split("&").reject { |pair| pair.split("=", 2).first == key }
    "#{base}?#{(pairs + ["#{key}=#{value}"]).join('&')}"
  end

  # What a Rails app does at boot: the .env in ENV, config/database.yml through
  # ActiveSupport::ConfigurationFile (Rails' own reader of it), the production entry.
  def connect(env, database_yml)
    env.each { |name, value| ENV[name] = value }
    ActiveRecord::Base.configurations = ActiveSupport::ConfigurationFile.parse(database_yml)
    ActiveRecord::Base.establish_connection(:production)
  end

  def effective
    conn = ActiveRecord::Base.connection
    {
      # What the adapter made of the URL's strings ("false" is false, anything else is truthy).
      "prepared_statements" => conn.prepared_statements? ? true : false,
      "advisory_locks" => conn.advisory_locks_enabled? ? true : false,
      "pool" => ActiveRecord::Base.connection_pool.size,
      "checkout_timeout" => ActiveRecord::Base.connection_pool.checkout_timeout,
      "idle_timeout" => ActiveRecord::Base.connection_db_config.idle_timeout,
    }
  end

  class Tally
    def initialize
      @lock = Mutex.new
      @result = { "ok" => 0, "errors" => 0, "first_error" => "", "errors_seen" => [] }
    end

    def ok
      @lock.synchronize { @result["ok"] += 1 }
    end

    def error(e)
      text = "#{e.class}: #{e.message.strip}"
      @lock.synchronize do
        @result["errors"] += 1
        @result["first_error"] = text if @result["first_error"].empty?
        seen = @result["errors_seen"]
        seen << text if seen.size < SEEN && !seen.include?(text)
      end
    end

    def add(other)
      @result["ok"] += other["ok"]
      @result["errors"] += other["errors"]
      @result["first_error"] = other["first_error"] if @result["first_error"].empty?
      @result["errors_seen"] = (@result["errors_seen"] | other["errors_seen"]).first(SEEN)
    end

    def to_h
      @result
    end
  end

  class Widget < ActiveRecord::Base
  end

  def setup_widgets
    conn = ActiveRecord::Base.connection
    conn.create_table(:widgets, if_not_exists: true) do |t|
      t.string :name
      t.integer :weight
    end
    Widget.reset_column_information
    return unless Widget.count.zero?

    Widget.insert_all((1..ROWS).map { |i| { name: "w#{i}", weight: i } })
  end

  # One request: a parameterised model query, checked against the rows it must return.
  def request(n)
    id = 1 + (n % ROWS)
    case n % 3
    when 0 then raise "wrong row for id #{id}" unless Widget.find(id).name == "w#{id}"
    when 1 then raise "wrong row for w#{id}" unless Widget.find_by!(name: "w#{id}").weight == id
    else
      count = Widget.where(weight: id..ROWS).count
      raise "counted #{count} widgets from #{id}, not #{ROWS - id + 1}" unless count == ROWS - id + 1
    end
  end

  # RAILS_MAX_THREADS threads, each keeping the connection it checked out for all its requests:
  # the worker holds its whole pool, the most its formula counts.
  def worker(threads)
    tally = Tally.new
    Array.new(threads) do |t|
      Thread.new do
        ActiveRecord::Base.connection_pool.with_connection do
          ROUNDS.times do |r|
            request((t * ROUNDS) + r)
            tally.ok
          rescue StandardError => e
            tally.error(e)
          end
        end
      rescue StandardError => e # no connection at all (ActiveRecord::ConnectionTimeoutError…)
        tally.error(e)
      end
    end.each(&:join)
    tally.to_h
  end

  def queries(env, database_yml)
    connect(env, database_yml)
    setup = effective
    setup_widgets
    processes = Integer(env.fetch("WEB_CONCURRENCY", "1"))
    threads = Integer(env.fetch("RAILS_MAX_THREADS", "5"))
    # Puma's cluster mode: the workers connect after the fork.
    ActiveRecord::Base.connection_handler.clear_all_connections!
    readers = Array.new(processes) do
      reader, writer = IO.pipe
      fork do
        reader.close
        ActiveRecord::Base.establish_connection(:production)
        writer.write(JSON.generate(worker(threads)))
        writer.close
        exit!(0)
      end
      writer.close
      reader
    end
    total = Tally.new
    readers.each { |reader| total.add(JSON.parse(reader.read)) }
    Process.waitall
    total.to_h.merge(setup).merge("processes" => processes)
  end

  # Requests of the same app in flight while the migration runs, each in an open transaction.
  def requests_in_flight
    ready = Queue.new
    @release = Queue.new
    @requests = Array.new(REQUESTS_IN_FLIGHT) do
      Thread.new do
        ActiveRecord::Base.connection_pool.with_connection do |conn|
          conn.transaction do
            conn.select_value("select count(*) from pg_class")
            ready << true
            @release.pop
          end
        end
      end
    end
    REQUESTS_IN_FLIGHT.times { ready.pop }
    yield
  end

  def finish_requests
    return unless @requests

    @requests.each { @release << true }
    @requests.each(&:join)
  end

  def migrate(env, database_yml)
    connect(env, database_yml)
    setup = effective
    tally = Tally.new
    Dir.mktmpdir("poolstack-rails-migrate") do |dir|
      version = Time.now.strftime("%Y%m%d%H%M%S%6N")
      File.write(File.join(dir, "#{version}_create_gadgets_#{version}.rb"), <<~RUBY)
        class CreateGadgets#{version} < ActiveRecord::Migration[6.1]
          def up
            Workload.requests_in_flight do
              create_table :gadgets_#{version} do |t|
                t.string :name
              end
            end
          end

          def down
            drop_table :gadgets_#{version}
          end
        end
      RUBY
      begin
        ActiveRecord::Migration.verbose = false
        ActiveRecord::MigrationContext.new(dir, ActiveRecord::SchemaMigration).migrate
        applied = ActiveRecord::SchemaMigration.where(version: version).exists?
        raise "migration #{version} was not recorded" unless applied

        tally.ok
      rescue StandardError => e
        tally.error(e)
      ensure
        finish_requests
      end
    end
    tally.to_h.merge(setup).merge("processes" => 1)
  end
end

mode, env_file, *args = ARGV
overrides = args.to_h { |arg| arg.split("=", 2) }
env = Workload.read_env(env_file, overrides)
database_yml = File.join(File.dirname(env_file), "database.yml")
result =
  case mode
  when "queries" then Workload.queries(env, database_yml)
  when "migrate" then Workload.migrate(env, database_yml)
  else abort("unknown mode #{mode.inspect}: queries or migrate")
  end
puts JSON.generate(result)
