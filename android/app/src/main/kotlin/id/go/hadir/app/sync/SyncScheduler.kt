/**
 * When the outbox is sent: unique periodic work every 15 minutes (WorkManager's
 * minimum) while there is a network, plus an expedited one-time pass right after each
 * check-in and whenever connectivity returns. All of it waits for a network.
 * [SyncScheduler.passesFinished] tells open screens when a pass has run.
 */
package id.go.hadir.app.sync

import android.content.Context
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.OutOfQuotaPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkInfo
import androidx.work.WorkManager
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.flow.flow
import java.util.UUID
import java.util.concurrent.TimeUnit

/** Schedules [SyncWorker]. */
object SyncScheduler {
    /** The unique name of the periodic sync. */
    const val PERIODIC_WORK = "hadir-sync-periodic"

    /** The unique name of the one-time "send now" pass. */
    const val NOW_WORK = "hadir-sync-now"

    private val needsNetwork: Constraints =
        Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

    /** Every 15 minutes with a network; an existing schedule is kept (app start). */
    fun schedulePeriodic(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES)
            .setConstraints(needsNetwork)
            .build()
        WorkManager.getInstance(context)
            .enqueueUniquePeriodicWork(PERIODIC_WORK, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /**
     * A pass right after a check-in was recorded. Replaces a waiting or running pass:
     * a running one may have read the outbox before this check-in was committed, and
     * cancelling it loses nothing (decided items stay decided, the rest pending).
     */
    fun afterCheckIn(context: Context) = sendSoon(context, ExistingWorkPolicy.REPLACE)

    /** A pass when a network becomes the default; one already waiting or running will do. */
    fun onNetworkAvailable(context: Context) = sendSoon(context, ExistingWorkPolicy.KEEP)

    private fun sendSoon(context: Context, policy: ExistingWorkPolicy) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setExpedited(OutOfQuotaPolicy.RUN_AS_NON_EXPEDITED_WORK_REQUEST)
            .setConstraints(needsNetwork)
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(NOW_WORK, policy, request)
    }

    /**
     * Emits once each time a sync pass (periodic or "send now") has finished running,
     * for screens that show what the pass changed (the home screen's sync line, a
     * check-in's decision). A pass is finished when its work leaves RUNNING, or when a
     * "send now" work is seen SUCCEEDED for the first time (a very short pass may
     * never be observed running). Passes finished before collection are not emitted.
     */
    fun passesFinished(context: Context): Flow<Unit> = flow {
        val work = WorkManager.getInstance(context.applicationContext)
        var running = emptySet<UUID>()
        var succeeded: Set<UUID>? = null
        combine(
            work.getWorkInfosForUniqueWorkFlow(NOW_WORK),
            work.getWorkInfosForUniqueWorkFlow(PERIODIC_WORK),
        ) { now, periodic -> now + periodic }
            .collect { infos ->
                val runningNow = infos.filter { it.state == WorkInfo.State.RUNNING }.map { it.id }.toSet()
                val succeededNow = infos.filter { it.state == WorkInfo.State.SUCCEEDED }.map { it.id }.toSet()
                val leftRunning = (running - runningNow).isNotEmpty()
                val newlySucceeded = succeeded?.let { (succeededNow - it).isNotEmpty() } ?: false
                running = runningNow
                succeeded = succeededNow
                if (leftRunning || newlySucceeded) emit(Unit)
            }
    }
}
