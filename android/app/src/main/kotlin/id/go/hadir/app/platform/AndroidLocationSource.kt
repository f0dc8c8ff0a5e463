/**
 * A fresh location fix from the platform `LocationManager` (not Google Play services'
 * fused provider: Huawei phones, common among staff, have none), with what the core
 * needs to judge it: accuracy, the fix's own time and the OS mock-location flag. Every
 * verdict (inside, outside, too old, too inaccurate, mocked) is the core's.
 */
package id.go.hadir.app.platform

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationManager
import android.os.Build
import android.os.CancellationSignal
import androidx.core.content.ContextCompat
import androidx.core.location.LocationManagerCompat
import id.go.hadir.core.LocationFix
import id.go.hadir.core.LocationProvider
import id.go.hadir.shell.platform.LocationReading
import id.go.hadir.shell.platform.LocationSource
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.Executor
import kotlin.coroutines.resume

/**
 * Asks GPS for a current fix (up to [gpsTimeoutMs]), then the network provider (up to
 * [networkTimeoutMs]) if GPS gave nothing, e.g. indoors. Uses
 * `LocationManagerCompat.getCurrentLocation`, which answers with a new fix or one the
 * platform took moments ago; never `getLastKnownLocation`. The fix's own time goes to
 * the core, which judges its age. Cancelling the caller cancels the request.
 */
class AndroidLocationSource(
    context: Context,
    private val gpsTimeoutMs: Long = 25_000,
    private val networkTimeoutMs: Long = 10_000,
) : LocationSource {
    private val context: Context = context.applicationContext
    private val locationManager: LocationManager =
        checkNotNull(ContextCompat.getSystemService(this.context, LocationManager::class.java)) {
            "no LocationManager"
        }

    /** The consumer only resumes a coroutine: no need for another thread. */
    private val direct = Executor { it.run() }

    override suspend fun freshFix(): LocationReading {
        val fine = ContextCompat.checkSelfPermission(context, Manifest.permission.ACCESS_FINE_LOCATION)
        if (fine != PackageManager.PERMISSION_GRANTED) return LocationReading.PermissionDenied
        if (!LocationManagerCompat.isLocationEnabled(locationManager)) return LocationReading.LocationOff
        val location = currentFix(LocationManager.GPS_PROVIDER, gpsTimeoutMs)
            ?: currentFix(LocationManager.NETWORK_PROVIDER, networkTimeoutMs)
            ?: return LocationReading.TimedOut
        return LocationReading.Fix(location.toLocationFix())
    }

    /** A current fix from [provider], or null if it is off, absent or gave none in time. */
    @SuppressLint("MissingPermission") // ACCESS_FINE_LOCATION is checked by freshFix.
    private suspend fun currentFix(provider: String, timeoutMs: Long): Location? {
        if (!LocationManagerCompat.hasProvider(locationManager, provider)) return null
        if (!locationManager.isProviderEnabled(provider)) return null
        return withTimeoutOrNull(timeoutMs) {
            suspendCancellableCoroutine { continuation ->
                val cancellation = CancellationSignal()
                continuation.invokeOnCancellation { cancellation.cancel() }
                LocationManagerCompat.getCurrentLocation(
                    locationManager,
                    provider,
                    cancellation,
                    direct,
                ) { location: Location? ->
                    if (continuation.isActive) continuation.resume(location)
                }
            }
        }
    }
}

/**
 * The platform's fix as the core's [LocationFix]. `accuracy` is 0 when the provider
 * reported none (as `Location.getAccuracy` has it); the core treats that as an invalid fix.
 */
private fun Location.toLocationFix(): LocationFix =
    LocationFix(
        latitude = latitude,
        longitude = longitude,
        accuracyM = accuracy.toDouble(),
        fixTimeMs = time,
        provider = when (provider) {
            LocationManager.GPS_PROVIDER -> LocationProvider.GPS
            LocationManager.NETWORK_PROVIDER -> LocationProvider.NETWORK
            "fused" -> LocationProvider.FUSED
            else -> LocationProvider.UNKNOWN
        },
        isMock = isMockLocation(),
    )

/** The OS mock-location flag: `isMock` from API 31, `isFromMockProvider` before. */
private fun Location.isMockLocation(): Boolean =
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
        isMock
    } else {
        @Suppress("DEPRECATION")
        isFromMockProvider
    }
